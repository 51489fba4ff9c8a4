/* The console pages in the browser: every time in the agent's own time zone, the inbox's
 * sections updated in place, alerts when a chat starts waiting, a conversation's new lines.
 *
 * Without JavaScript the pages work as the server renders them: times in UTC, labelled, and
 * a reload to see who is new. Nothing here reloads the page: a call ringing in the browser
 * phone (phone.js), a focused button or text being typed stay as they are. Nothing here
 * throws to the page, and nothing is fetched from anywhere but presszero.
 */
(function () {
  "use strict";

  // -- times: <time datetime="…Z" data-local="time|date|datetime"> ------------------------

  var FORMATS = {
    time: { hour: "numeric", minute: "2-digit", timeZoneName: "short" },
    datetime: {
      month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
    },
    date: { month: "short", day: "numeric" },
    day: { year: "numeric", month: "numeric", day: "numeric" },
    full: { dateStyle: "full", timeStyle: "full" },
  };
  var formatters = {};

  function format(name, moment) {
    if (!formatters[name]) formatters[name] = new Intl.DateTimeFormat(undefined, FORMATS[name]);
    return formatters[name].format(moment);
  }

  // Write each time in `root` in the browser's time zone, named ("2:05 PM PDT"): a time of
  // day alone when it is today there, with its date otherwise; the whole of it on hover.
  function localise(root) {
    var times = (root || document).querySelectorAll("time[data-local]");
    for (var i = 0; i < times.length; i++) {
      try {
        var moment = new Date(times[i].getAttribute("datetime"));
        if (isNaN(moment.getTime())) continue;
        var style = times[i].getAttribute("data-local");
        if (style === "time" && format("day", moment) !== format("day", new Date())) {
          style = "datetime";
        }
        times[i].textContent = format(FORMATS[style] ? style : "datetime", moment);
        times[i].title = format("full", moment);
      } catch (ignored) {
        // the UTC text the server wrote stays, labelled
      }
    }
  }

  function stored(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (ignored) {
      return null;
    }
  }

  function store(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (ignored) {
      // private mode: the choice lasts as long as the page
    }
  }

  // -- alerts: a sound and a desktop notification, once the agent turned them on ------------

  var ALERTS = "presszero.alerts"; // "on" or "off"
  var ALERTED = "presszero.alerted"; // keys any tab of this browser has alerted, newest last
  var audio = null;
  var alertsBox = document.getElementById("alerts");
  var toggle = document.getElementById("alerts-toggle");
  var alertsSaid = document.getElementById("alerts-state");

  function alertsOn() {
    return stored(ALERTS) === "on";
  }

  function permission() {
    return "Notification" in window ? window.Notification.permission : "unsupported";
  }

  // An AudioContext plays only once the page has had a click or a key: made (or resumed) in
  // one, it stays allowed.
  function wakeAudio() {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      if (!audio) audio = new Context();
      if (audio.state === "suspended") audio.resume().then(showAlerts, showAlerts);
    } catch (ignored) {
      audio = null;
    }
  }

  function sound() {
    wakeAudio();
    if (!audio) return;
    try {
      var start = audio.currentTime + 0.02;
      [[880, 0], [1175, 0.2]].forEach(function (tone) {
        var at = start + tone[1];
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.frequency.value = tone[0];
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
        oscillator.connect(gain);
        gain.connect(audio.destination);
        oscillator.start(at);
        oscillator.stop(at + 0.2);
      });
    } catch (ignored) {
      // no sound this time; the notification still says it
    }
  }

  function notify(item) {
    if (permission() !== "granted") return;
    var href = item.getAttribute("data-alert-href");
    try {
      var shown = new window.Notification(item.getAttribute("data-alert-title") || "", {
        body: item.getAttribute("data-alert-body") || "",
        tag: item.getAttribute("data-alert-key") || "",
      });
      shown.onclick = function () {
        window.focus();
        var onCall = window.presszeroPhone && window.presszeroPhone.busy();
        if (href && !onCall) window.location.href = href; // never away from a call
        shown.close();
      };
    } catch (ignored) {
      // some browsers show notifications only from a service worker: the sound says it
    }
  }

  // Alert the agent of `items` (new to this page), unless another tab already did.
  function announce(items) {
    if (!alertsOn() || !items.length) return;
    var alerted = [];
    try {
      alerted = JSON.parse(stored(ALERTED) || "[]");
    } catch (ignored) {
      alerted = [];
    }
    var fresh = items.filter(function (item) {
      return alerted.indexOf(item.getAttribute("data-alert-key")) < 0;
    });
    if (!fresh.length) return;
    var keys = fresh.map(function (item) { return item.getAttribute("data-alert-key"); });
    store(ALERTED, JSON.stringify(alerted.concat(keys).slice(-200)));
    sound();
    fresh.slice(0, 3).forEach(notify);
  }

  function showAlerts() {
    if (!toggle) return;
    var on = alertsOn();
    var how = permission();
    toggle.textContent = on ? "Turn off alerts" : "Turn on alerts";
    var text;
    if (!on) text = "Alerts are off. Turn them on for a sound and a desktop notification when a chat starts waiting.";
    else if (how === "granted") text = "Alerts are on: a sound and a desktop notification when a chat starts waiting.";
    else if (how === "denied") text = "Alerts are on, sound only: this browser blocks notifications from this site (its site settings can allow them).";
    else if (how === "unsupported") text = "Alerts are on, sound only: this browser shows no desktop notifications.";
    else text = "Alerts are on, sound only until the browser is allowed to show notifications.";
    if (on && (!audio || audio.state !== "running")) {
      text += " Click anywhere on this page once to let it play the sound.";
    }
    alertsSaid.textContent = text;
  }

  if (toggle && alertsBox && alertsSaid) {
    alertsBox.hidden = false;
    toggle.addEventListener("click", function () {
      if (alertsOn()) {
        store(ALERTS, "off");
        showAlerts();
        return;
      }
      store(ALERTS, "on");
      sound(); // what it will sound like, and the click lets the page play it
      if (permission() === "default") {
        var asked = window.Notification.requestPermission(showAlerts);
        if (asked && asked.then) asked.then(showAlerts, showAlerts);
      }
      showAlerts();
    });
    ["pointerdown", "keydown"].forEach(function (kind) {
      document.addEventListener(kind, function () {
        if (alertsOn() && (!audio || audio.state !== "running")) wakeAudio();
      }, true);
    });
    showAlerts();
  }

  // -- the inbox's live sections ------------------------------------------------------------

  function sections(root) {
    return Array.prototype.slice.call(root.querySelectorAll("[data-live]"));
  }

  function alertable(root) {
    return Array.prototype.slice.call(root.querySelectorAll("[data-alert-key]"));
  }

  var TYPED = /^(hidden|button|submit|reset|image|checkbox|radio)$/;

  // True while the agent has something of their own in `section`: typing in it, a field
  // changed, a box ticked. That section waits for a later look.
  function editing(section) {
    var active = document.activeElement;
    if (active && section.contains(active)) {
      if (active.isContentEditable || /^(TEXTAREA|SELECT)$/.test(active.tagName)) return true;
      if (active.tagName === "INPUT" && !TYPED.test(active.type)) return true;
    }
    var fields = section.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "hidden") continue;
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked) return true;
      } else if (field.tagName === "SELECT") {
        for (var j = 0; j < field.options.length; j++) {
          if (field.options[j].selected !== field.options[j].defaultSelected) return true;
        }
      } else if (field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  // What makes a button or link the same one in the new section.
  function keyOf(element) {
    var form = element.form ? element.form.getAttribute("action") : "";
    var label = element.getAttribute("aria-label") || element.textContent.trim();
    return [element.tagName, element.id, element.getAttribute("href"), element.name, form, label]
      .join("|");
  }

  function detailsKey(details) {
    var summary = details.querySelector("summary");
    return details.id || (summary ? summary.textContent.trim() : "");
  }

  function swap(old, section) {
    var active = document.activeElement;
    var focused = active && active !== document.body && old.contains(active) ? keyOf(active) : null;
    var open = Array.prototype.map.call(old.querySelectorAll("details[open]"), detailsKey);
    var fresh = document.importNode(section, true);
    old.parentNode.replaceChild(fresh, old);
    localise(fresh);
    Array.prototype.forEach.call(fresh.querySelectorAll("details"), function (details) {
      if (open.indexOf(detailsKey(details)) >= 0) details.open = true;
    });
    if (focused === null) return;
    var targets = fresh.querySelectorAll("a[href], button, input, select, textarea, [tabindex]");
    for (var i = 0; i < targets.length; i++) {
      if (keyOf(targets[i]) === focused) {
        targets[i].focus({ preventScroll: true });
        return;
      }
    }
  }

  function startLive(bar) {
    var url = bar.getAttribute("data-url");
    var every = Number(bar.getAttribute("data-every")) || 4000;
    var said = document.getElementById("live-state");
    var title = document.title.replace(/^\(\d+\) /, "");
    var shown = {}; // each section's HTML as the server last sent it, by its data-live name
    var known = {}; // every alert key this page has seen: never alerted twice, nor at load
    sections(document).forEach(function (section) {
      shown[section.getAttribute("data-live")] = section.outerHTML;
    });
    alertable(document).forEach(function (item) {
      known[item.getAttribute("data-alert-key")] = true;
    });
    bar.hidden = false;

    function say(text) {
      if (said.textContent !== text) said.textContent = text;
    }

    function apply(html) {
      var box = document.createElement("template");
      box.innerHTML = html;
      var count = box.content.querySelectorAll("[data-waiting]").length;
      document.title = (count ? "(" + count + ") " : "") + title;
      var news = alertable(box.content).filter(function (item) {
        var key = item.getAttribute("data-alert-key");
        if (known[key]) return false;
        known[key] = true;
        return true;
      });
      sections(box.content).forEach(function (section) {
        var name = section.getAttribute("data-live");
        var markup = section.outerHTML;
        if (shown[name] === markup) return;
        var old = sections(document).filter(function (s) {
          return s.getAttribute("data-live") === name;
        })[0];
        if (!old || editing(old)) return;
        swap(old, section);
        shown[name] = markup;
      });
      announce(news);
    }

    function look() {
      var stop = false;
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
        .then(function (reply) {
          if (reply.status === 401) {
            stop = true;
            say("You are signed out, so this list has stopped. Reload the page to sign in again.");
            return null;
          }
          if (!reply.ok) throw new Error("HTTP " + reply.status);
          return reply.text();
        })
        .then(function (html) {
          if (html === null) return;
          apply(html);
          say("This list updates itself.");
        })
        .catch(function () {
          say("This list is not updating: presszero did not answer. Trying again…");
        })
        .then(function () {
          if (!stop) window.setTimeout(look, every);
        });
    }

    window.setTimeout(look, every);
  }

  // -- a conversation's transcript: new lines as they come, set as text, never as HTML -----

  function startTranscript(log) {
    var url = log.getAttribute("data-url");
    var after = Number(log.getAttribute("data-after"));
    log.scrollTop = log.scrollHeight;

    function add(message) {
      after = Math.max(after, message.id);
      var line = document.createElement("li");
      line.setAttribute("data-id", message.id);
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = message.agent || message.from;
      line.appendChild(who);
      if (message.at) {
        var at = document.createElement("time");
        at.setAttribute("datetime", message.at);
        at.setAttribute("data-local", "time");
        at.textContent = message.at;
        line.appendChild(at);
      }
      line.appendChild(document.createTextNode(message.text));
      localise(line);
      log.appendChild(line);
    }

    function look() {
      var stop = false;
      fetch(url + "?after=" + after, { credentials: "same-origin", cache: "no-store" })
        .then(function (reply) {
          if (reply.status === 401) stop = true;
          return reply.ok ? reply.json() : { messages: [] };
        })
        .then(function (body) {
          var atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 16;
          (body.messages || []).forEach(add);
          if (atEnd) log.scrollTop = log.scrollHeight;
        })
        .catch(function () {
          // the next look tries again
        })
        .then(function () {
          if (!stop) window.setTimeout(look, 2000);
        });
    }

    window.setTimeout(look, 2000);
  }

  var live = document.getElementById("live");
  if (live && live.getAttribute("data-url")) startLive(live); // before the times are rewritten
  var transcript = document.getElementById("transcript");
  if (transcript && transcript.getAttribute("data-url")) startTranscript(transcript);
  localise(document);
})();
