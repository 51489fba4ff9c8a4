/* The inbox's phone: an agent whose calls ring `client:NAME` takes them in this page, with
 * Twilio's Voice JavaScript SDK (vendor/twilio.min.js, served by presszero). The access token
 * comes from consoles/phone.py and is renewed before it expires. Whatever goes wrong is said
 * in the panel in plain words; nothing here throws to the page.
 * window.presszeroPhone.busy() is true while a call rings or is on, when reloading the page
 * would drop it. */
(function () {
  "use strict";
  var panel = document.getElementById("phone");
  if (!panel) return;
  var line = document.getElementById("phone-state");
  var buttons = {
    accept: document.getElementById("phone-accept"),
    decline: document.getElementById("phone-decline"),
    hangup: document.getElementById("phone-hangup"),
  };
  var device = null;
  var call = null;
  var registered = false;
  var problem = ""; // why the phone is offline, said again when a call ends
  var phone = (window.presszeroPhone = {
    state: "starting",
    busy: function () { return call !== null; },
  });

  // Twilio's error codes, by what the agent can do about them.
  var NETWORK = [31000, 31003, 31005, 31009, 53000, 53001, 53405];
  var MICROPHONE = [31201, 31401, 31402];
  var EXPIRED = [20104, 31205];
  var SIGN_IN = [20101, 20151, 31202, 31203, 31204, 31206, 31207];

  function say(state, text) {
    phone.state = state;
    panel.setAttribute("data-state", state);
    line.textContent = "Phone: " + text;
  }

  function show(names) {
    Object.keys(buttons).forEach(function (name) {
      buttons[name].hidden = names.indexOf(name) < 0;
    });
  }

  function settle(note) {
    call = null;
    show([]);
    if (registered) say("ready", "ready. " + (note || "Calls for you ring here."));
    else say("offline", "offline" + (problem ? " — " + problem : ".") + (note ? " " + note : ""));
  }

  function offline(why) {
    problem = why;
    if (!call) settle();
  }

  function describe(error) {
    var code = error && error.code;
    if (NETWORK.indexOf(code) >= 0) return "cannot reach Twilio. Check the network; trying again.";
    if (MICROPHONE.indexOf(code) >= 0) {
      return "the browser did not let this page use the microphone. Allow it for this site " +
        "(the icon in the address bar), then answer again.";
    }
    if (EXPIRED.indexOf(code) >= 0) return "the phone's sign-in ran out; getting a new one.";
    if (SIGN_IN.indexOf(code) >= 0) {
      return "Twilio did not accept this page's sign-in. Reload the page; if this happens " +
        "again, the Twilio settings need checking.";
    }
    return "something went wrong" + (code ? " (Twilio error " + code + ")" : "") +
      ". Reload the page if calls stop ringing here.";
  }

  function failed(error) {
    try {
      var why = error && error.plain ? error.plain : describe(error);
      if (call) say("problem", why);
      else offline(why);
      if (error && EXPIRED.indexOf(error.code) >= 0) renew();
    } catch (ignored) {
      line.textContent = "Phone: offline — something went wrong. Reload the page.";
    }
  }

  // Run a handler the SDK or a button calls; a failure is said, never thrown.
  function guard(handler) {
    return function () {
      try {
        return handler.apply(this, arguments);
      } catch (error) {
        failed(error);
      }
    };
  }

  function refusal(status, body) {
    var message = body && body.message ? body.message + "." : "";
    if (status === 401) return "you are signed out. Sign in again to take calls here.";
    if (status === 403) return "this page is not your phone: " + message;
    if (status === 503) return "not set up yet: " + message + " Ask whoever runs presszero.";
    return "presszero could not sign this phone in (HTTP " + status + "). Reload the page.";
  }

  function token() {
    var request = fetch(panel.getAttribute("data-token-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    return request.then(
      function (reply) {
        return reply.json().catch(function () { return {}; }).then(function (body) {
          if (reply.ok && body.token) return body.token;
          throw { plain: refusal(reply.status, body) };
        });
      },
      function () {
        throw { plain: "presszero did not answer. Check the network, then reload the page." };
      }
    );
  }

  function renew() {
    token().then(guard(function (fresh) {
      if (device) device.updateToken(fresh);
    })).catch(failed);
  }

  function who(incoming) {
    var custom = incoming.customParameters;
    var named = custom && typeof custom.get === "function" ? custom.get("who") : "";
    var from = (incoming.parameters && incoming.parameters.From) || "";
    return named || from.replace(/^client:/, "") || "an unknown number";
  }

  var ringing = guard(function (incoming) {
    if (call) return; // the SDK already refuses a second call while one is on
    call = incoming;
    var caller = who(incoming);
    say("ringing", "incoming call from " + caller + ".");
    buttons.accept.setAttribute("aria-label", "Accept the call from " + caller);
    buttons.decline.setAttribute("aria-label", "Decline the call from " + caller);
    buttons.hangup.setAttribute("aria-label", "Hang up on " + caller);
    show(["accept", "decline"]);
    incoming.on("accept", guard(function () {
      say("on-call", "on a call with " + caller + ".");
      show(["hangup"]);
    }));
    incoming.on("cancel", guard(function () { settle(caller + " hung up before you answered."); }));
    incoming.on("reject", guard(function () { settle("You declined the call from " + caller + "."); }));
    incoming.on("disconnect", guard(function () { settle("The call with " + caller + " ended."); }));
    incoming.on("error", guard(function (error) { failed(error); }));
  });

  buttons.accept.addEventListener("click", guard(function () {
    if (!call) return;
    say("answering", "answering…");
    call.accept();
  }));
  buttons.decline.addEventListener("click", guard(function () {
    if (call) call.reject();
  }));
  buttons.hangup.addEventListener("click", guard(function () {
    if (call) call.disconnect();
  }));

  var start = guard(function () {
    if (!window.Twilio || typeof window.Twilio.Device !== "function") {
      offline("the phone software did not load. Reload the page.");
      return;
    }
    say("connecting", "connecting to Twilio…");
    token().then(guard(function (first) {
      var sounds = JSON.parse(panel.getAttribute("data-sounds") || "{}");
      device = new window.Twilio.Device(first, {
        closeProtection: "You are on a call: leaving this page hangs it up.",
        codecPreferences: ["opus", "pcmu"],
        sounds: sounds, // made by presszero, not fetched from Twilio's CDN
      });
      device.on("registered", guard(function () {
        registered = true;
        problem = "";
        if (!call) settle();
      }));
      device.on("unregistered", guard(function () {
        registered = false;
        if (!call) settle();
      }));
      device.on("error", guard(function (error) { failed(error); }));
      device.on("tokenWillExpire", guard(renew));
      device.on("incoming", ringing);
      return device.register();
    })).catch(failed);
  });

  start();
})();
