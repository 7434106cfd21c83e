// The assessment app in the browser: autosave of answers with live points, confirmations,
// comment errors.  Plain JavaScript, no outside calls; every page works without it (forms post).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var lang = document.documentElement.lang === "en" ? "en" : "vi";
  var numbers = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-US", {maximumFractionDigits: 4});
  // Points always with two decimals, as the server writes them (416,72 cannot be read as 416 715).
  var pointsFormat = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-US",
                                           {minimumFractionDigits: 2, maximumFractionDigits: 2});
  var wordsNode = document.getElementById("entry-words");
  var words = wordsNode ? JSON.parse(wordsNode.textContent) : {};
  // Points follow the typing; a save follows a change (leaving the field) or a pause in typing.
  var PREVIEW_MS = 300, SAVE_MS = 400, IDLE_SAVE_MS = 2000;

  function points(value) { return value === null || value === undefined ? "—" : pointsFormat.format(value); }

  function post(url, form, extra) {
    var data = new FormData(form);
    Object.keys(extra || {}).forEach(function (k) { data.set(k, extra[k]); });
    return fetch(url, {method: "POST", body: data, credentials: "same-origin",
                       headers: {"X-CSRF-Token": csrf, "Accept": "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return {status: response.status, body: body};
        });
      });
  }

  // Forms that ask before they post (submitting the assessment, removing a file …).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  // htmx posts (comments): show the server's message when it refuses.
  document.body.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt, status = form && form.querySelector(".comment-status");
    if (!status) return;
    var message = words.failed || "Error";
    try { message = JSON.parse(event.detail.xhr.responseText).error.message; } catch (e) { /* keep */ }
    status.textContent = message;
  });
  document.body.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf;
  });

  function setProgress(body) {
    var progress = body.progress || {};
    Object.keys(progress).forEach(function (key) {
      document.querySelectorAll('[data-progress="' + key + '"]').forEach(function (node) {
        node.textContent = progress[key];
      });
    });
    document.querySelectorAll("[data-total]").forEach(function (node) {
      node.textContent = points(body.total_points);
    });
    var mains = body.main_points || {};
    Object.keys(mains).forEach(function (main) {
      document.querySelectorAll('[data-main-points="' + main + '"]').forEach(function (node) {
        node.textContent = points(mains[main]);
      });
    });
    // The summary's "answered 2/10" per main indicator, in the words the server wrote it with.
    var answered = body.main_answered || {};
    Object.keys(answered).forEach(function (main) {
      document.querySelectorAll('[data-main-answered="' + main + '"]').forEach(function (node) {
        node.textContent = node.dataset.format.replace("{answered}", answered[main])
          .replace("{required}", node.dataset.required);
      });
    });
  }

  function showProblems(form, problems) {
    form.querySelectorAll("[data-problem-for]").forEach(function (node) { node.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
    (problems || []).forEach(function (problem) {
      var name = "f_" + (problem.column || "");
      var slot = form.querySelector('[data-problem-for="' + name + '"]');
      var input = form.elements[name];
      if (input) input.setAttribute("aria-invalid", "true");
      if (slot) slot.textContent = problem.message;
    });
  }

  function describe(form, value) {
    if (!value) return "—";
    return Object.keys(value).map(function (key) {
      var input = form.elements["f_" + key], label = key, shown = value[key];
      if (input && input.closest("label")) label = input.closest("label").firstChild.textContent.trim();
      if (typeof shown === "boolean") shown = shown ? words.yes : words.no;
      else if (typeof shown === "number") shown = numbers.format(shown);
      return label + ": " + shown;
    }).join("; ");
  }

  function setStatus(form, kind, text) {
    var status = form.querySelector("[data-status]");
    if (!status) return;
    status.className = "save-status " + kind;
    status.textContent = text;
  }

  function conflict(form, current) {
    var status = form.querySelector("[data-status]");
    form.dataset.conflict = "1";
    if (!status) return;
    status.className = "save-status conflict";
    status.textContent = words.conflict + " " + words.current_value + ": " +
      describe(form, current && current.self_value) + " ";
    var link = document.createElement("a");
    link.href = window.location.pathname + window.location.search + "#" + form.closest("[data-answer]").id;
    link.textContent = words.reload;
    link.addEventListener("click", function (e) { e.preventDefault(); window.location.reload(); });
    status.appendChild(link);
  }

  function setupAnswer(form) {
    var block = form.closest("[data-answer]");
    var output = form.querySelector("[data-points]");
    var previewTimer = null, saveTimer = null, saving = false, again = false;

    function preview() {
      post(form.action + "/preview", form).then(function (r) {
        if (r.status !== 200) return;
        showProblems(form, r.body.problems);
        if (output) output.textContent = points(r.body.points);
      }).catch(function () { /* the save reports connection problems */ });
    }

    function save() {
      if (form.dataset.conflict) return;
      if (saving) { again = true; return; }
      saving = true;
      setStatus(form, "saving", words.saving);
      post(form.action, form, {version: block.dataset.version}).then(function (r) {
        if (r.status === 200) {
          block.dataset.version = r.body.version;
          form.elements.version.value = r.body.version;
          if (output) output.textContent = points(r.body.self_points);
          showProblems(form, []);
          setProgress(r.body);
          setStatus(form, "saved", words.saved);
        } else if (r.status === 409) {
          conflict(form, r.body.error && r.body.error.current);
        } else if (r.status === 422) {
          showProblems(form, r.body.error && r.body.error.problems);
          setStatus(form, "conflict", words.invalid);
        } else {
          setStatus(form, "conflict", words.failed + ": " +
                    ((r.body.error && r.body.error.message) || r.body.detail || r.status));
        }
      }).catch(function () {
        setStatus(form, "conflict", words.offline);
      }).then(function () {
        saving = false;
        if (again) { again = false; save(); }
      });
    }

    function later(fn, timer, ms) { window.clearTimeout(timer); return window.setTimeout(fn, ms); }
    form.addEventListener("input", function (event) {
      if (event.target.name && event.target.name.indexOf("f_") === 0) {
        previewTimer = later(preview, previewTimer, PREVIEW_MS);
      }
      saveTimer = later(save, saveTimer, IDLE_SAVE_MS);
    });
    form.addEventListener("change", function () { saveTimer = later(save, saveTimer, SAVE_MS); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(saveTimer);
      save();
    });
  }

  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    if (!form.querySelector("fieldset[disabled]")) setupAnswer(form);
  });
})();
