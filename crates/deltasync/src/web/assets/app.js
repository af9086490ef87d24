// deltasync field app: live updates over server-sent events, and a few conveniences.
// Pages work without this script; it only keeps them current.
"use strict";

(function () {
  var live = document.body.getAttribute("data-live") === "1";
  var refreshing = false;
  var finishedNote = null;

  function $(id) { return document.getElementById(id); }

  function label(object) {
    return object.replace(/([a-z])([A-Z])/g, "$1 $2");
  }

  function setOnline(online) {
    var pill = $("conn");
    if (!pill) return;
    pill.textContent = online ? "Online" : "Offline";
    pill.className = "pill " + (online ? "online" : "offline");
  }

  function setPending(count) {
    var badge = $("pending-badge");
    if (badge) {
      badge.textContent = String(count);
      badge.hidden = count === 0;
    }
    var home = $("pending-count");
    if (home) home.textContent = String(count);
  }

  function showMessage(text, bad) {
    var msg = $("sync-message");
    if (!msg) return;
    msg.textContent = text;
    msg.className = "message" + (bad ? " bad" : "");
    msg.hidden = false;
  }

  // Re-renders <main> from the server, unless the person is typing in it.
  function refreshMain() {
    if (!live || refreshing) return;
    var active = document.activeElement;
    if (active && active.closest("main") && /INPUT|TEXTAREA|SELECT/.test(active.tagName)) return;
    refreshing = true;
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        refreshing = false;
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        var main = document.querySelector("main");
        if (fresh && main) main.innerHTML = fresh.innerHTML;
        bindForms();
        if (finishedNote) showMessage(finishedNote.text, finishedNote.bad);
      })
      .catch(function () { refreshing = false; });
  }

  function syncing(on) {
    var button = $("sync-now");
    if (button) {
      button.disabled = on;
      button.textContent = on ? "Syncing…" : "Sync Now";
    }
    var progress = $("progress");
    if (progress) progress.hidden = !on;
  }

  function objectRow(object) {
    var list = $("progress-objects");
    if (!list) return null;
    var row = list.querySelector('[data-object="' + CSS.escape(object) + '"]');
    if (!row) {
      row = document.createElement("li");
      row.className = "row";
      row.setAttribute("data-object", object);
      var name = document.createElement("span");
      name.textContent = label(object);
      var state = document.createElement("span");
      state.className = "phase";
      row.appendChild(name);
      row.appendChild(state);
      list.appendChild(row);
    }
    return row.querySelector(".phase");
  }

  var handlers = {
    status: function (s) {
      setOnline(s.online);
      setPending(s.pending);
      if (s.syncing) syncing(true);
    },
    connectivity: function (e) {
      setOnline(e.online);
      refreshMain();
    },
    pending: function (e) {
      setPending(e.count);
      refreshMain();
    },
    sync_started: function () {
      finishedNote = null;
      var msg = $("sync-message");
      if (msg) msg.hidden = true;
      var list = $("progress-objects");
      if (list) list.textContent = "";
      var up = $("progress-upload");
      if (up) up.textContent = "Uploading changes…";
      syncing(true);
    },
    uploading: function (e) {
      var up = $("progress-upload");
      if (up) up.textContent = "Uploading changes: " + e.done + " of " + e.total;
    },
    downloading: function (e) {
      var up = $("progress-upload");
      if (up && /^Uploading changes…$/.test(up.textContent)) up.textContent = "Changes uploaded";
      var cell = objectRow(e.object);
      if (cell) {
        cell.textContent = "Downloading " + e.done + (e.total != null ? " of " + e.total : "");
      }
    },
    sync_finished: function (e) {
      syncing(false);
      var ok = e.outcome === "succeeded";
      var text = ok ? "Sync complete." : "Sync " + e.outcome + ".";
      if (e.next_due_text) text += " Next scheduled sync at " + e.next_due_text + ".";
      finishedNote = { text: text, bad: !ok && e.outcome !== "partial" };
      showMessage(finishedNote.text, finishedNote.bad);
      refreshMain();
    }
  };

  function connect() {
    if (!window.EventSource) return;
    var source = new EventSource("/events");
    // Let the connection go as soon as the page does, so it never holds a slot.
    window.addEventListener("pagehide", function () { source.close(); });
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (ev) {
        var data;
        try { data = JSON.parse(ev.data); } catch (_) { return; }
        handlers[name](data);
      });
    });
  }

  function bindForms() {
    var form = $("sync-form");
    if (form && !form.dataset.bound) {
      form.dataset.bound = "1";
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        syncing(true);
        var up = $("progress-upload");
        if (up) up.textContent = "Starting…";
        fetch(form.action, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(new FormData(form)).toString()
        }).catch(function () { syncing(false); });
      });
    }
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      if (f.dataset.bound) return;
      f.dataset.bound = "1";
      f.addEventListener("submit", function (ev) {
        if (!window.confirm(f.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
  }

  bindForms();
  connect();
})();
