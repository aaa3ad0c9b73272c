// Kinward's own script: loaded from /static so the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  // Select the one-time link when it is focused, so it can be copied on a tablet.
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("copy")) {
      event.target.select();
    }
  });

  // Once the person signs out or locks, the page reads nothing more and follows no answer that would take
  // it elsewhere: an answer to a request the sign-out overtook (a 401 whose HX-Redirect says "sign in")
  // would otherwise take the browser to the sign-in page instead of where the sign-out leads. Saves still
  // go (a note's last words are sent, not dropped). A page still here long after (the person stopped
  // it) works again, and its next answer says the session has ended.
  var SESSION_END_WAIT_MS = 10000;
  var sessionEnding = false;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute("data-ends-session")) { return; }
    sessionEnding = true;
    setTimeout(function () { sessionEnding = false; }, SESSION_END_WAIT_MS);
  });
  document.addEventListener("htmx:before:request", function (event) {
    if (sessionEnding && event.detail.ctx.request.method === "GET") { event.preventDefault(); }
  });
  document.addEventListener("htmx:before:response", function (event) {
    var hx = event.detail.ctx.hx || {};
    if (sessionEnding && (hx.redirect || hx.location || hx.refresh)) { event.preventDefault(); }
  });

  // The printable summary's Print button (no inline script under the Content-Security-Policy).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });

  // Shared tablets lock themselves before the server's idle limit. Every answer to a tablet session says
  // in how many seconds its page must lock (data-lock-in-seconds, then the Kinward-Lock-In header), a
  // margin before the server would end the session, so the lock request finds it alive: the cookie
  // changes and the browser's copies of the pages are cleared. A warning counts down the last minute.
  // A page brought back by Back or Forward from the browser's back/forward cache is never shown
  // again: hidden as it leaves, it goes to the lock screen once the session is over, and otherwise
  // asks the server afresh (which answers with the lock screen if the session ended meanwhile).
  var body = document.body;
  var idleSeconds = parseInt(body.getAttribute("data-idle-lock-seconds") || "0", 10);
  if (idleSeconds > 0) {
    var lockAt = Date.now() + 1000 * parseInt(body.getAttribute("data-lock-in-seconds") || "0", 10);
    var warnFor = Math.min(60, Math.floor(idleSeconds / 2));
    var pingEvery = Math.min(60000, idleSeconds * 250);
    var warning = document.getElementById("idle-warning");
    var countdown = document.getElementById("idle-countdown");
    var lockForm = document.getElementById("lock-form");
    var lastPing = Date.now();
    var pingLater = null;
    var lockNow = function () {
      if (sessionEnding) { return; }
      sessionEnding = true;  // submit() fires no submit event
      body.hidden = true;
      if (lockForm) { lockForm.submit(); } else { window.location.replace("/tablet"); }
    };
    var tick = function () {
      if (sessionEnding) { return; }
      var left = Math.ceil((lockAt - Date.now()) / 1000);
      if (left <= 0) { lockNow(); return; }
      if (warning) {
        warning.hidden = left > warnFor;
        countdown.textContent = String(left);
      }
    };
    var heard = function (headers) {
      var lockIn = headers && headers.get("Kinward-Lock-In");
      if (lockIn) {
        lockAt = Date.now() + 1000 * parseInt(lockIn, 10);
        tick();
      }
    };
    // Typing into a form sends nothing; tell the server the person is still here: at most every quarter
    // of the idle time, and once more after the last activity of a busy spell.
    var ping = function () {
      clearTimeout(pingLater);
      pingLater = null;
      lastPing = Date.now();
      fetch("/tablet/still-here", {credentials: "same-origin", cache: "no-store", redirect: "manual"})
        .then(function (response) {
          if (response.ok) { heard(response.headers); }
          else if (response.type === "opaqueredirect" || response.status === 401) { lockNow(); }
        }, function () {});
    };
    var markActive = function () {
      if (sessionEnding || pingLater) { return; }
      var wait = pingEvery - (Date.now() - lastPing);
      if (wait <= 0) { ping(); } else { pingLater = setTimeout(ping, wait); }
    };
    ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, markActive, {passive: true});
    });
    var stay = document.getElementById("idle-stay");
    if (stay) { stay.addEventListener("click", ping); }
    document.addEventListener("htmx:after:request", function (event) {
      var ctx = event.detail.ctx;
      if (ctx && ctx.response) { heard(ctx.response.headers); }
    });
    document.addEventListener("visibilitychange", tick);
    window.addEventListener("pagehide", function (event) {
      if (event.persisted) { body.hidden = true; }
    });
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) { return; }
      body.hidden = true;
      window.location.replace(sessionEnding || Date.now() >= lockAt ? "/tablet" : window.location.href);
    });
    setInterval(tick, 1000);
  }

  // htmx error answers, in one place (the server side is app/web/errors.py). An answer that is not
  // a form re-rendered with its messages (409, 422) or a sign-in redirect (401) never replaces what
  // it targets: the form keeps what was typed and says "not sent — retry" with a Retry button, and a
  // poller stays, backs off and keeps asking until the server answers again. The visit log's forms
  // (data-save-status) show the same message in their own status line; their Save button retries.
  var REDRAWN = {401: true, 409: true, 422: true};
  var POLL_BACKOFF_MAX = 60000;
  var texts = function () {
    var node = document.getElementById("request-texts");
    return node ? node.dataset : {};
  };
  var sourceOf = function (ctx) {
    var source = ctx && ctx.sourceElement;
    return source && source.isConnected ? source : null;
  };
  var isPoller = function (source) {
    return /\bevery\b/.test(source.getAttribute("hx-trigger") || "");
  };
  var saving = function (ctx) {
    var source = sourceOf(ctx);
    var form = source && source.closest ? source.closest("form[data-save-status]") : null;
    return form ? {form: form, status: document.getElementById(form.getAttribute("data-save-status"))} : null;
  };
  // The server's own words for the refusal, from its error fragment (data-error), if it sent one.
  var serverReason = function (ctx) {
    if (!ctx || !ctx.text || ctx.text.indexOf("data-error") < 0) { return ""; }
    var answer = new DOMParser().parseFromString(ctx.text, "text/html").querySelector("[data-error]");
    return answer ? answer.textContent.trim() : "";
  };
  var statusNear = function (anchor, id) {
    var status = document.getElementById(id);
    if (!status) {
      status = document.createElement("div");
      status.id = id;
      status.className = "save-status request-status";
      anchor.insertAdjacentElement(anchor.tagName === "FORM" ? "beforeend" : "afterend", status);
    }
    return status;
  };
  var notSent = function (ctx) {
    var found = saving(ctx);
    var source = sourceOf(ctx);
    if (!source) { return; }
    var form = found ? found.form : source.closest("form");
    var anchor = form || source;
    var status = found && found.status ? found.status : statusNear(anchor, (anchor.id || "request") + "-failed");
    var message = document.createElement("p");
    message.className = "not-saved";
    message.setAttribute("role", "alert");
    message.textContent = (form && form.getAttribute("data-not-saved")) || texts().notSent || "Not sent — retry";
    var parts = [message];
    var reason = serverReason(ctx);
    if (reason) {
      var why = document.createElement("p");
      why.textContent = reason;
      parts.push(why);
    }
    if (form && !found) {
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "button secondary";
      retry.textContent = texts().retry || "Retry";
      retry.addEventListener("click", function () { form.requestSubmit(); });
      parts.push(retry);
    }
    status.replaceChildren.apply(status, parts);
  };
  var pollerFailed = function (poller) {
    var delay = Math.min(POLL_BACKOFF_MAX, (poller._kinwardDelay || 2500) * 2);
    poller._kinwardDelay = delay;
    poller._kinwardNext = Date.now() + delay;
    var status = statusNear(poller, poller.id + "-failed");
    var message = document.createElement("p");
    message.className = "not-saved";
    message.setAttribute("role", "status");
    message.textContent = texts().notUpdated || "Not updated — trying again";
    status.replaceChildren(message);
  };
  var answered = function (source) {
    source._kinwardDelay = 0;
    source._kinwardNext = 0;
    var failed = document.getElementById((source.id || "request") + "-failed");
    if (failed && !failed.closest("[data-save-status]")) { failed.remove(); }
  };
  var failedRequest = function (ctx) {
    var source = sourceOf(ctx);
    if (!source) { return; }
    ctx.swap = "none";
    if (isPoller(source)) { pollerFailed(source); } else { notSent(ctx); }
  };
  document.addEventListener("htmx:error", function (event) {
    var ctx = event.detail.ctx;
    if (ctx) { failedRequest(ctx); }
  });
  document.addEventListener("htmx:response:error", function (event) {
    var ctx = event.detail.ctx;
    if (!REDRAWN[ctx.response.status]) { failedRequest(ctx); }
  });
  document.addEventListener("htmx:after:request", function (event) {
    var ctx = event.detail.ctx;
    var source = sourceOf(ctx);
    if (source && ctx.response && ctx.response.status < 400) { answered(source); }
  });
  // A poller that failed waits out its backoff: its "every" trigger still fires, the request does not.
  document.addEventListener("htmx:before:request", function (event) {
    var source = sourceOf(event.detail.ctx);
    if (source && source._kinwardNext && Date.now() < source._kinwardNext) { event.preventDefault(); }
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

// Where focus goes. A page or swap that brings an error summary focuses it (the GOV.UK pattern), so the
// person hears and sees what was refused where they acted; its links take them to each field. Otherwise a
// swap focuses the element it marks with data-swap-focus, or, when the swap removed the focused control
// (a pager, a week link), the swapped region itself. A poll, a region loaded with the page or an autosave
// never takes focus.
(function () {
  "use strict";
  var seen = "data-focus-seen";
  var fresh = function (selector) {
    return Array.prototype.find.call(document.querySelectorAll(selector), function (element) {
      return !element.hasAttribute(seen);
    });
  };
  var focusOn = function (element) {
    element.setAttribute(seen, "");
    if (!element.hasAttribute("tabindex")) { element.setAttribute("tabindex", "-1"); }
    element.focus({preventScroll: true});
    element.scrollIntoView({block: "start"});
  };
  var markAll = function (selector) {
    document.querySelectorAll(selector).forEach(function (element) { element.setAttribute(seen, ""); });
  };
  var focusSummary = function () {
    var summary = fresh("[data-error-summary]");
    markAll("[data-error-summary]");
    if (summary) { focusOn(summary); }
    return Boolean(summary);
  };
  var focusLost = function () {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  };
  // On a page load only the summary takes focus, or the place a page says it opens at (My day: the
  // current visit) unless the address names another; what pages mark for swaps counts as seen.
  if (!focusSummary() && !window.location.hash) {
    var here = document.querySelector("[data-open-here]");
    if (here) { focusOn(here); }
  }
  markAll("[data-swap-focus]");
  document.addEventListener("htmx:after:swap", function (event) {
    if (focusSummary()) { markAll("[data-swap-focus]"); return; }
    var marked = fresh("[data-swap-focus]");
    markAll("[data-swap-focus]");
    if (marked) { focusOn(marked); return; }
    var ctx = event.detail && event.detail.ctx;
    var target = ctx && ctx.target;
    // Only a swap the person asked for: a region loaded with the page or polled (nothing focused yet)
    // must not pull focus and scroll the page away from where it opens.
    var asked = ctx && ctx.sourceEvent && ctx.sourceEvent.isTrusted;
    if (asked && focusLost() && target && target.isConnected && target.nodeType === 1) { focusOn(target); }
  });
  // A link in an error summary focuses its field and shows the field's label (or its group's legend) with it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-error-summary] a[href^='#']") : null;
    var field = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
    if (!field) { return; }
    event.preventDefault();
    var legend = field.closest("fieldset") ? field.closest("fieldset").querySelector("legend") : null;
    var label = legend || document.querySelector("label[for='" + field.id + "']") || field;
    field.focus({preventScroll: true});
    label.scrollIntoView({block: "start"});
  });
})();
