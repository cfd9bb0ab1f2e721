// The console's behaviour: CSRF on every htmx request, the live stream, keyboard shortcuts,
// and the call pop-up. Plain script (no build step); htmx 2 is vendored beside it (npm).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var body = document.body;
  var status = document.getElementById("live-status");
  var text = function (key) { return body.getAttribute("data-t-" + key) || ""; };

  // A refused form (422) or a question (409) comes back as the panel to show, with its reason.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "409", swap: true, error: false },
    { code: "422", swap: true, error: false },
    { code: "[45]..", swap: false, error: true }
  ];
  // A canned response picked from the list is put into the reply box, to edit before sending.
  document.body.addEventListener("change", function (event) {
    var fills = event.target.getAttribute && event.target.getAttribute("data-fills");
    if (fills && event.target.value) {
      var box = document.getElementById(fills);
      box.value = box.value ? box.value + "\n" + event.target.value : event.target.value;
      event.target.value = "";
      box.focus();
    }
  });
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // ---- the live stream: one EventSource per page; the browser resumes with Last-Event-ID.
  var listeners = [];
  function onTicketEvent(fn) { listeners.push(fn); }
  window.hubConsole = { onTicketEvent: onTicketEvent };

  function connect() {
    if (!window.EventSource || !meta) return;
    var source = new EventSource("/api/v1/events");
    var kinds = ["created", "routed", "status_changed", "message_in", "message_out", "delivery",
      "escalated", "assigned", "stage_changed", "extension", "merged", "photo", "split", "note",
      "reply"];
    var handle = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      listeners.forEach(function (fn) { fn(data); });
    };
    kinds.forEach(function (kind) { source.addEventListener(kind, handle); });
    source.addEventListener("message", handle);
    source.addEventListener("ballot", function (event) {
      var ballot = body.getAttribute("data-ballot");
      try {
        if (ballot && String(JSON.parse(event.data).ballot) === ballot) htmx.trigger(body, "ballot-changed");
      } catch (e) { /* a malformed frame is dropped */ }
    });
    source.addEventListener("call", function (event) {
      try { showCall(JSON.parse(event.data)); } catch (e) { /* a malformed frame is dropped */ }
    });
    source.onopen = function () {
      status.removeAttribute("data-state");
      status.textContent = text("live");
    };
    source.onerror = function () {
      status.setAttribute("data-state", "down");
      status.textContent = text("reconnecting");
    };
    body.setAttribute("data-live", "connecting");
    source.addEventListener("open", function () { body.setAttribute("data-live", "open"); });
  }

  // ---- the inbox: rows of changed tickets are fetched in one request per burst.
  var inboxUrl = body.getAttribute("data-live-inbox");
  var pending = {};
  var timer = null;
  function refreshRows() {
    timer = null;
    var numbers = Object.keys(pending);
    pending = {};
    if (!numbers.length) return;
    fetch(inboxUrl + "&numbers=" + encodeURIComponent(numbers.join(",")), {
      credentials: "same-origin", headers: { "HX-Request": "true" }
    }).then(function (response) {
      if (response.status === 401) { window.location = "/console/login"; return null; }
      return response.ok ? response.text() : null;
    }).then(function (html) { if (html) applyRows(html); });
  }
  function applyRows(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var tbody = document.getElementById("inbox-rows");
    var template = holder.querySelector("template");
    var added = 0;
    Array.prototype.forEach.call(template.content.querySelectorAll("tr"), function (row) {
      var number = row.getAttribute("data-number");
      var existing = tbody.querySelector('tr[data-number="' + number + '"]');
      row.classList.add("fresh");
      if (existing) {
        if (existing.getAttribute("aria-selected") === "true") row.setAttribute("aria-selected", "true");
        tbody.replaceChild(row, existing);
      } else if (body.getAttribute("data-first-page") === "yes" || body.getAttribute("data-order") === "oldest") {
        if (body.getAttribute("data-order") === "oldest") tbody.appendChild(row);
        else tbody.insertBefore(row, tbody.firstChild);
        added += 1;
      }
    });
    var remove = holder.querySelector("[data-remove]");
    (remove ? remove.getAttribute("data-remove").split(" ") : []).forEach(function (number) {
      if (!number) return;
      var row = tbody.querySelector('tr[data-number="' + number + '"]');
      if (row) row.parentNode.removeChild(row);
    });
    document.getElementById("inbox-empty").hidden = tbody.rows.length > 0;
    if (added) status.textContent = (added === 1 ? text("one-new") : text("many-new").replace("{count}", added));
    body.setAttribute("data-updated", String(Date.now()));
  }
  if (inboxUrl) {
    onTicketEvent(function (event) {
      pending[event.ticket] = true;
      if (!timer) timer = setTimeout(refreshRows, 1000);
    });
  }

  // ---- the ticket page: redraw the thread and history when this ticket changes.
  var ticketNumber = body.getAttribute("data-ticket");
  if (ticketNumber) {
    onTicketEvent(function (event) {
      if (event.ticket === ticketNumber || (event.data && event.data.into === ticketNumber)) {
        htmx.trigger(body, "ticket-changed");
      }
    });
  }

  // ---- calls: ringing, answered (with the caller's card), ended. Only this agent gets them.
  function showCall(call) {
    var box = document.getElementById("call-popup");
    if (!box) {
      box = document.createElement("section");
      box.id = "call-popup";
      box.className = "popup";
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-labelledby", "call-title");
      document.getElementById("popups").appendChild(box);
    }
    box.setAttribute("data-state", call.state);
    box.innerHTML = "";
    var title = document.createElement("h2");
    title.id = "call-title";
    title.textContent = text("call-" + call.state) + " " + (call.caller || "");
    box.appendChild(title);
    if (call.ticket) {
      var link = document.createElement("a");
      link.href = "/console/tickets/" + encodeURIComponent(call.ticket);
      link.textContent = call.ticket;
      box.appendChild(link);
    }
    if (call.pop && call.resident_id) {
      var card = document.createElement("div");
      card.id = "call-card";
      box.appendChild(card);
      htmx.ajax("GET", "/console/residents/" + encodeURIComponent(call.resident_id) + "/card", { target: "#call-card" });
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "secondary";
    close.textContent = text("close");
    close.addEventListener("click", function () { box.parentNode.removeChild(box); });
    box.appendChild(close);
    if (call.state === "answered") close.focus();
  }

  // ---- keyboard: j/k move, Enter opens, / search, r reply, n note, a assign, e resolve, ? help.
  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }
  function move(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#inbox-rows tr"));
    if (!rows.length) return;
    var index = rows.findIndex(function (row) { return row.getAttribute("aria-selected") === "true"; });
    rows.forEach(function (row) { row.removeAttribute("aria-selected"); });
    index = Math.max(0, Math.min(rows.length - 1, index + step));
    rows[index].setAttribute("aria-selected", "true");
    var link = rows[index].querySelector("a.open");
    if (link) link.focus();
  }
  function focusOn(id) {
    var element = document.getElementById(id);
    if (element) { element.focus(); return true; }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    var handled = true;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "/") handled = focusOn("search-query") || (window.location = "/console/search", true);
    else if (key === "r") handled = focusOn("reply-text");
    else if (key === "n") handled = focusOn("note-text");
    else if (key === "a") handled = focusOn("assign-to");
    else if (key === "e") {
      var resolve = document.getElementById("resolve-button");
      handled = !!resolve;
      if (resolve) resolve.click();
    } else handled = false;
    if (handled) event.preventDefault();
  });

  connect();
})();
