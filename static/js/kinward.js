// Kinward's own script: loaded from /static so the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  // Select the one-time link when it is focused, so it can be copied on a tablet.
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("copy")) {
      event.target.select();
    }
  });

  // The printable summary's Print button (no inline script under the Content-Security-Policy).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });

  // Shared tablets lock themselves after the facility's idle time; the server enforces the
  // same limit, this only makes it visible and tidy. A warning counts down the last minute.
  var idleSeconds = parseInt(document.body.getAttribute("data-idle-lock-seconds") || "0", 10);
  if (idleSeconds > 0) {
    var lastActivity = Date.now();
    var lastPing = Date.now();
    var warning = document.getElementById("idle-warning");
    var countdown = document.getElementById("idle-countdown");
    var lockForm = document.getElementById("lock-form");
    var markActive = function () {
      lastActivity = Date.now();
      if (warning) { warning.hidden = true; }
      // Typing into a form sends nothing; tell the server the person is still here.
      if (Date.now() - lastPing > Math.min(60000, idleSeconds * 250)) {
        lastPing = Date.now();
        fetch("/tablet/still-here", {credentials: "same-origin", cache: "no-store"});
      }
    };
    ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, markActive, {passive: true});
    });
    var stay = document.getElementById("idle-stay");
    if (stay) { stay.addEventListener("click", markActive); }
    setInterval(function () {
      var left = Math.ceil(idleSeconds - (Date.now() - lastActivity) / 1000);
      if (left <= 0) {
        if (lockForm) { lockForm.submit(); } else { window.location.assign("/tablet"); }
        lastActivity = Date.now() + 3600000;
      } else if (left <= Math.min(60, Math.floor(idleSeconds / 2)) && warning) {
        countdown.textContent = String(left);
        warning.hidden = false;
      }
    }, 1000);
  }

  // The visit log saves as it is typed (forms with data-save-status). A save that does not reach
  // the server, or fails there, says "not saved — retry" next to its field; the text stays in
  // the box and the form's Save button sends it again. 409 and 422 answers explain themselves.
  var saving = function (ctx) {
    var source = ctx && ctx.sourceElement;
    var form = source && source.closest ? source.closest("form[data-save-status]") : null;
    return form ? {form: form, status: document.getElementById(form.getAttribute("data-save-status"))} : null;
  };
  var notSaved = function (ctx) {
    var found = saving(ctx);
    if (found && found.status) {
      var message = document.createElement("p");
      message.className = "not-saved";
      message.setAttribute("role", "alert");
      message.textContent = found.form.getAttribute("data-not-saved");
      found.status.replaceChildren(message);
    }
  };
  document.addEventListener("htmx:error", function (event) { notSaved(event.detail.ctx); });
  document.addEventListener("htmx:response:error", function (event) {
    var ctx = event.detail.ctx;
    if (saving(ctx) && ctx.response.status !== 409 && ctx.response.status !== 422) {
      ctx.swap = "none";
      notSaved(ctx);
    }
  });
  // A log's saves wait in one queue (hx-sync); each sends its form as it is when its turn comes,
  // with the version the previous save returned, not as it was when it joined the queue.
  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail.ctx;
    var found = saving(ctx);
    if (found && found.form.isConnected && found.form.hasAttribute("data-autosave")
        && ctx.request.body instanceof URLSearchParams) {
      var submitter = ctx.request.submitter && ctx.request.submitter.form === found.form ? ctx.request.submitter : null;
      ctx.request.body = new URLSearchParams(new FormData(found.form, submitter));
    }
  });
  // After a swap someone asked for (a filter, a sort, a page link), move focus to the result's
  // status line, so keyboard and screen-reader users land on what changed; pollers never move it.
  document.addEventListener("htmx:after:swap", function (event) {
    var source = event.target;
    if (!source || !source.getAttribute || !(source.tagName === "FORM" || source.tagName === "A")) { return; }
    var selector = source.getAttribute("hx-target");
    var region = selector ? document.querySelector(selector) : null;
    var status = region ? region.querySelector("[data-swap-focus]") : null;
    if (status) { setTimeout(function () { status.focus(); }, 0); }
  });
})();
