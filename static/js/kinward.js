// Kinward's own script: loaded from /static so the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  // Select the one-time link when it is focused, so it can be copied on a tablet.
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("copy")) {
      event.target.select();
    }
  });
})();
