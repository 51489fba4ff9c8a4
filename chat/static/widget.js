/* presszero chat widget: one <script> tag, no build step, no framework.
 *
 *   <script src="https://support.example.com/chat/widget.js"
 *           data-identity="TOKEN-YOUR-SITE-SIGNED" defer></script>
 *
 * It talks to the server its own src names (list the site in PRESSZERO_CHAT_ORIGINS), shows
 * a launcher button, and keeps the conversation (its sender id and conversation token) in
 * the site's localStorage, so it goes on across the site's pages and visits; agent replies
 * that came while it was closed are counted on the launcher.
 * Everything a person or the bot says is set as text (textContent), never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var server = (script && script.getAttribute("data-server")) ||
    (script ? new URL(script.src, location.href).origin : "");
  var identity = (script && script.getAttribute("data-identity")) || "";
  var inline = script && script.getAttribute("data-inline") === "true";
  // One conversation per server for this site: {sender, token, read (the last agent reply
  // seen), open (the panel, across pages)}.
  var storeKey = "presszero.chat:" + server;
  var kept = load();
  if (!kept.sender) forget();
  var lastSeen = -1;
  var polling = null;
  var unread = 0;
  var begun = false; // greeted, or picked up where it was
  var history = null; // the transcript's first load, once

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(kept)); } catch (e) { /* private mode */ }
  }
  // A new conversation: a fresh sender id, no token until its first answer gives one.
  function forget() {
    kept = { sender: "web-" + (crypto.randomUUID ? crypto.randomUUID() :
      String(Math.random()).slice(2) + String(Date.now())), token: "", read: -1, open: kept.open };
    save();
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var style = el("style");
  style.textContent =
    ".pz-chat{font:15px/1.4 system-ui,sans-serif;width:360px;max-width:100%;border:1px solid #8a8a8a;" +
    "border-radius:10px;background:#fff;color:#111;display:flex;flex-direction:column;height:520px}" +
    ".pz-chat.pz-float{position:fixed;right:16px;bottom:16px;box-shadow:0 4px 18px rgba(0,0,0,.2)}" +
    ".pz-head{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:10px 12px;" +
    "border-bottom:1px solid #ddd;background:#1b3a5c;color:#fff;border-radius:10px 10px 0 0}" +
    ".pz-head h2{font-size:16px;margin:0}" +
    ".pz-person{background:#ffd34d;color:#111;border:0;border-radius:6px;padding:6px 10px;font-weight:600;cursor:pointer}" +
    ".pz-log{flex:1;overflow-y:auto;padding:10px;display:flex;flex-direction:column;gap:6px}" +
    ".pz-msg{max-width:85%;padding:7px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    ".pz-bot{background:#eef2f7;align-self:flex-start}.pz-agent{background:#e3f4e1;align-self:flex-start}" +
    ".pz-visitor{background:#1b3a5c;color:#fff;align-self:flex-end}" +
    ".pz-system{align-self:center;font-size:13px;color:#444}" +
    ".pz-who{display:block;font-size:12px;color:#333;font-weight:600}" +
    ".pz-buttons{display:flex;flex-wrap:wrap;gap:6px}" +
    ".pz-buttons button{border:1px solid #1b3a5c;background:#fff;color:#1b3a5c;border-radius:14px;padding:4px 10px;cursor:pointer}" +
    ".pz-status{padding:4px 12px;font-size:13px;color:#333;min-height:1.4em}" +
    ".pz-offer{margin:0 12px 6px;align-self:flex-start;border:1px solid #1b3a5c;background:#fff;color:#1b3a5c;border-radius:14px;padding:4px 10px;cursor:pointer}" +
    ".pz-offer[hidden]{display:none}" +
    ".pz-form{display:flex;gap:6px;padding:10px;border-top:1px solid #ddd}" +
    ".pz-form input{flex:1;padding:8px;border:1px solid #8a8a8a;border-radius:6px;font:inherit}" +
    ".pz-form button{padding:8px 12px;border:0;border-radius:6px;background:#1b3a5c;color:#fff;font:inherit}" +
    ".pz-chat :focus-visible,.pz-launcher:focus-visible{outline:3px solid #ffb000;outline-offset:2px}" +
    ".pz-chat[hidden],.pz-launcher[hidden],.pz-badge[hidden]{display:none}" +
    ".pz-launcher{position:fixed;right:16px;bottom:16px;border:0;border-radius:24px;padding:12px 18px;" +
    "background:#1b3a5c;color:#fff;font:600 15px/1.2 system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 4px 18px rgba(0,0,0,.25);display:flex;align-items:center;gap:8px}" +
    ".pz-badge{background:#c62828;color:#fff;border-radius:12px;min-width:22px;padding:2px 6px;" +
    "font-size:13px;text-align:center}" +
    ".pz-close{background:transparent;color:#fff;border:1px solid #fff;border-radius:6px;padding:4px 8px;cursor:pointer}" +
    ".pz-chat.pz-float{bottom:76px}" +
    ".pz-sr{position:absolute;left:-9999px}";
  document.head.appendChild(style);

  var box = el("section", { "class": "pz-chat" + (inline ? "" : " pz-float"), "aria-label": "Support chat" });
  var head = el("div", { "class": "pz-head" });
  head.appendChild(el("h2", {}, "Support chat"));
  var person = el("button", { "class": "pz-person", type: "button" }, "Talk to a person");
  head.appendChild(person);
  var close = el("button", { "class": "pz-close", type: "button", "aria-label": "Close the chat" }, "✕");
  if (!inline) head.appendChild(close);
  var log = el("div", { "class": "pz-log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  var status = el("div", { "class": "pz-status", role: "status", "aria-live": "polite" });
  var form = el("form", { "class": "pz-form" });
  var label = el("label", { "for": "pz-input", "class": "pz-sr" }, "Your message");
  var input = el("input", { id: "pz-input", type: "text", autocomplete: "off", maxlength: "2000",
    placeholder: "Type your message" });
  var send = el("button", { type: "submit" }, "Send");
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  var offer = el("button", { "class": "pz-offer", type: "button", hidden: "" }, "Leave a message instead");
  offer.addEventListener("click", function () { say("/message", "Leave a message instead"); });
  box.appendChild(head); box.appendChild(log); box.appendChild(status); box.appendChild(offer);
  box.appendChild(form);
  (document.getElementById("presszero-chat") || document.body).appendChild(box);
  box.id = "pz-chat-panel";
  var launcher = el("button", { "class": "pz-launcher", type: "button",
    "aria-controls": "pz-chat-panel", "aria-expanded": "false" });
  launcher.appendChild(el("span", {}, "Chat with us"));
  var badge = el("span", { "class": "pz-badge", hidden: "" });
  launcher.appendChild(badge);
  if (!inline) document.body.appendChild(launcher);

  function isOpen() { return inline || !box.hidden; }

  // The panel opens from the launcher; opening it reads what came while it was closed.
  function setOpen(open) {
    if (inline) return;
    box.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    kept.open = open;
    save();
    if (open) {
      markRead();
      begin();
      input.focus();
    }
  }

  function markRead() {
    unread = 0;
    kept.read = Math.max(kept.read, lastSeen);
    save();
    showUnread();
  }

  function showUnread() {
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    badge.setAttribute("aria-label", unread === 1 ? "1 unread reply" : unread + " unread replies");
    launcher.setAttribute("aria-label", unread ?
      "Chat with us (" + badge.getAttribute("aria-label") + ")" : "Chat with us");
  }

  function show(who, text, name) {
    var msg = el("div", { "class": "pz-msg pz-" + who });
    if (who === "agent") msg.appendChild(el("span", { "class": "pz-who" }, name || "Agent"));
    msg.appendChild(document.createTextNode(text));
    log.appendChild(msg);
    log.scrollTop = log.scrollHeight;
  }

  function showButtons(buttons) {
    var row = el("div", { "class": "pz-buttons", role: "group", "aria-label": "Choices" });
    buttons.forEach(function (b) {
      if (b.payload === "/agent") return; // the header button is always there
      var button = el("button", { type: "button" }, b.title);
      button.addEventListener("click", function () { say(b.payload, b.title); });
      row.appendChild(button);
    });
    if (row.childNodes.length) log.appendChild(row);
  }

  function say(message, shown, again) {
    if (shown !== "") show("visitor", shown === undefined ? message : shown);
    var metadata = { identity: identity, language: navigator.language || "" };
    if (kept.token) metadata.conversation_token = kept.token;
    return fetch(server + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: kept.sender, message: message, metadata: metadata })
    }).then(function (r) {
      // This conversation's token is gone (expired, or another tab's): start a new one, once.
      if ((r.status === 401 || r.status === 403) && !again) {
        forget();
        return say(message, "", true).then(function () { return null; });
      }
      if (!r.ok) throw new Error("status " + r.status);
      return r.json();
    }).then(function (replies) {
      if (replies === null) return null;
      replies.forEach(function (m) {
        if (m.custom && m.custom.conversation_token) {
          kept.token = m.custom.conversation_token;
          save();
        }
        if (m.text) show("bot", m.text);
        if (m.buttons) showButtons(m.buttons);
      });
      return poll(false);
    }).catch(function () {
      status.textContent = "We couldn't reach the chat service. Please try again, or call us.";
    });
  }

  function poll(history) {
    if (!kept.token) return Promise.resolve();
    return fetch(server + "/chat/poll?sender=" + encodeURIComponent(kept.sender) + "&after=" + lastSeen,
      { headers: { "X-Presszero-Conversation": kept.token } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { forget(); return null; } // start afresh
        if (!r.ok) throw new Error("status " + r.status); // 429: the next poll will do
        return r.json();
      })
      .then(function (data) {
        if (data === null) return;
        var all = data.messages || [];
        all.forEach(function (m, i) {
          lastSeen = Math.max(lastSeen, m.id);
          if (m.from === "agent" && m.id > kept.read) {
            if (isOpen()) kept.read = m.id; else unread += 1;
          }
          if (m.from === "agent") show("agent", m.text, m.agent);
          else if (m.from === "system") show("system", m.text);
          else if (history) show(m.from, m.text); // a reload: the bot and visitor lines too
          // Quick replies under a line (did we sort it out?); on a reload, only the last's.
          if (m.from === "system" && m.buttons && (!history || i === all.length - 1)) {
            showButtons(m.buttons);
          }
        });
        save();
        showUnread();
        showStatus(data);
        var live = data.status === "waiting" || data.status === "with_agent" ||
          data.status === "message" || (data.status === "unavailable" && polling !== null);
        // A message left waits for its answer for hours: look for it now and then, not often.
        var every = data.status === "message" ? 15000 : 2000;
        if (polling && (!live || polling.every !== every)) { clearInterval(polling.id); polling = null; }
        if (live && !polling) {
          polling = { every: every, id: setInterval(function () { poll(false); }, every) };
        }
      }).catch(function () {
        if (history) status.textContent = "We couldn't reach the chat service. Please try again, or call us.";
      });
  }

  function ordinal(n) {
    var tens = n % 100, ones = n % 10;
    if (tens < 11 || tens > 13) {
      if (ones === 1) return n + "st";
      if (ones === 2) return n + "nd";
      if (ones === 3) return n + "rd";
    }
    return n + "th";
  }

  // What the poll says of the conversation, in words, under the log.
  function showStatus(data) {
    offer.hidden = true;
    var m = data.message || {};
    if (data.status === "waiting") {
      status.textContent = data.queue_position ?
        "Waiting for a person (you're " + ordinal(data.queue_position) + " in line)." :
        "Waiting for a person.";
      offer.hidden = !data.offer_message;
    } else if (data.status === "with_agent") {
      status.textContent = "You're chatting with " + (data.agent || "a person") + ".";
    } else if (data.status === "unavailable") {
      status.textContent = "We're having trouble reaching the chat. Still trying…";
    } else if (data.status === "message" && m.step === "sent") {
      status.textContent = "Message sent — we'll answer here" + (m.reply_by === "email" ?
        " and by email at " + m.reply_to : m.reply_by === "sms" ?
        " and by text message to " + m.reply_to : "") + ".";
    } else if (data.status === "message" && m.step === "contact") {
      status.textContent = "Message saved — how else should we reach you? (optional)";
    } else if (data.status === "message") {
      status.textContent = (m.closed ? "We're closed" : "No one is free right now") +
        " — leave a message.";
    } else {
      status.textContent = "";
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    say(text);
  });
  person.addEventListener("click", function () { say("/agent", "Talk to a person"); });
  launcher.addEventListener("click", function () { setOpen(box.hidden); });
  close.addEventListener("click", function () { setOpen(false); launcher.focus(); });

  // Greet (or pick the conversation up where it was) once the visitor opens the chat.
  function loadHistory() {
    if (!history) history = poll(true);
    return history;
  }

  function begin() {
    if (begun) return;
    begun = true;
    loadHistory().then(function () { if (lastSeen < 0) say("/start", ""); });
  }

  if (inline) {
    begin();
  } else {
    box.hidden = !kept.open;
    launcher.setAttribute("aria-expanded", String(!!kept.open));
    if (kept.open) begin();
    else if (kept.token) loadHistory(); // what came while they were away: the badge counts it
  }
})();
