// deltasync field app: live updates over server-sent events, and a few conveniences.
// Pages work without this script; it only keeps them current.
"use strict";

(function () {
  var live = document.body.getAttribute("data-live") === "1";
  var refreshing = false;
  var finishedNote = null;

  function $(id) { return document.getElementById(id); }

  // Times: the server renders each as <time datetime="...Z"> with UTC text; here they
  // are shown in this browser's time zone. Form times go the same way both directions.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hm(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  function zoneName() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time"; }
    catch (_) { return "local time"; }
  }

  // "clock": 14:05 today, else 3 Dec 14:05; "datetime": 3 Dec 2026 14:05.
  function formatTime(d, fmt) {
    var now = new Date();
    var today = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() &&
      d.getDate() === now.getDate();
    if (fmt === "clock" && today) return hm(d);
    var day = d.getDate() + " " + MONTHS[d.getMonth()];
    if (fmt === "datetime") return day + " " + d.getFullYear() + " " + hm(d);
    return day + " " + hm(d);
  }

  function localTimes(root) {
    root.querySelectorAll("time[datetime][data-fmt]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      t.textContent = formatTime(d, t.getAttribute("data-fmt"));
      t.title = formatTime(d, "datetime") + " (" + zoneName() + ")";
    });
  }

  // "2026-05-04T10:00" in UTC -> the same instant as this zone's datetime-local value.
  function utcToLocalInput(value) {
    var d = new Date(value.length === 16 ? value + ":00Z" : value + "Z");
    if (isNaN(d.getTime())) return null;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + hm(d);
  }

  function localInputs(root) {
    root.querySelectorAll("[data-tz-label]").forEach(function (l) {
      l.textContent = "(" + zoneName() + ")";
    });
    root.querySelectorAll("input[data-utc]").forEach(function (input) {
      if (input.dataset.local) return;
      input.dataset.local = "1";
      var local = input.value && utcToLocalInput(input.value);
      if (local) input.value = local;
      var form = input.form;
      if (!form || form.dataset.utcBound) return;
      form.dataset.utcBound = "1";
      // On submit each time goes as a full UTC time under the field's name.
      form.addEventListener("submit", function () {
        form.querySelectorAll("input[data-utc][name]").forEach(function (i) {
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = i.name;
          var d = i.value ? new Date(i.value) : null;
          hidden.value = d && !isNaN(d.getTime()) ? d.toISOString() : i.value;
          i.removeAttribute("name");
          form.appendChild(hidden);
        });
      });
    });
  }

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
        if (main) localTimes(main);
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
    // The first event on every connection: what changed between rendering the page and
    // subscribing (a sync may have ended in between) would otherwise stay unseen.
    status: function (s) {
      var badge = $("pending-badge");
      var rendered = badge ? Number(badge.textContent) : s.pending;
      var renderedSyncing = document.body.getAttribute("data-syncing") === "1";
      setOnline(s.online);
      setPending(s.pending);
      if (s.syncing) syncing(true);
      if (rendered !== s.pending || (renderedSyncing && !s.syncing)) refreshMain();
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
      if (e.next_due_at) {
        text += " Next scheduled sync at " + formatTime(new Date(e.next_due_at), "clock") + ".";
      } else if (e.next_due_text) {
        text += " Next scheduled sync at " + e.next_due_text + ".";
      }
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

  localTimes(document);
  localInputs(document);
  // A refused form: take the person to the first field to fix.
  var invalid = document.querySelector(
    ".form-field.invalid input:not([type=hidden]), .form-field.invalid select, .form-field.invalid textarea");
  if (invalid) {
    invalid.scrollIntoView({ block: "center" });
    invalid.focus();
  }
  bindForms();
  connect();
})();
