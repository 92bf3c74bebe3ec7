/* OnPace console shell: sign-in (authorization code + PKCE), the ID token, and the views.
 *
 * The ID token lives in sessionStorage (gone with the tab) and is honoured until its exp: a
 * timer ends the session then. Every view is an HTML fragment the server renders with Jinja2's
 * autoescape (no scripts: the CSP would not run them), fetched with the bearer token and the
 * selected district, and put into <main>. */
(function () {
  "use strict";

  var body = document.body;
  var BASE = body.getAttribute("data-base") || "/console";
  var AUTH_URL = body.getAttribute("data-auth-url") || "";
  var CLIENT_ID = body.getAttribute("data-client-id") || "";
  var REDIRECT_URI = window.location.origin + window.location.pathname;
  var KEY = { token: "onpace.idToken", login: "onpace.login", district: "onpace.district" };
  var DEFAULT_VIEW = "audit";
  var VIEW_NAME = /^[a-z][a-z0-9-]{0,40}$/;

  var view = document.getElementById("view");
  var nav = document.getElementById("nav");
  var account = document.getElementById("account");
  var signin = document.getElementById("signin");
  var signinReason = document.getElementById("signin-reason");
  var errorLine = document.getElementById("error-line");
  var districtOne = document.getElementById("district-one");
  var districtMany = document.getElementById("district-many");
  var districtId = document.getElementById("district-id");
  var districtSwitch = document.getElementById("district-switch");

  var session = null; // {token, claims, districts}
  var expiryTimer = null;
  var request = 0;

  // -------------------------------------------------------------------------------------
  // Small helpers.

  function b64url(bytes) {
    var text = "";
    bytes.forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(size) {
    var bytes = new Uint8Array(size);
    crypto.getRandomValues(bytes);
    return b64url(bytes);
  }

  function s256(verifier) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)).then(function (digest) {
      return b64url(new Uint8Array(digest));
    });
  }

  function decodeClaims(token) {
    var part = (token || "").split(".")[1] || "";
    var padded = part.replace(/-/g, "+").replace(/_/g, "/");
    while (padded.length % 4) padded += "=";
    var bytes = Uint8Array.from(atob(padded), function (c) { return c.charCodeAt(0); });
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  function setState(state) {
    body.setAttribute("data-state", state);
  }

  // -------------------------------------------------------------------------------------
  // Sign-in, session, expiry, sign-out.

  function startSignIn() {
    var verifier = randomString(48);
    var login = {
      verifier: verifier,
      state: randomString(24),
      nonce: randomString(24),
      hash: window.location.hash || ""
    };
    return s256(verifier).then(function (challenge) {
      sessionStorage.setItem(KEY.login, JSON.stringify(login));
      var params = new URLSearchParams({
        response_type: "code",
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        scope: "openid email",
        state: login.state,
        nonce: login.nonce,
        code_challenge: challenge,
        code_challenge_method: "S256"
      });
      window.location.assign(AUTH_URL + "/oauth2/authorize?" + params.toString());
    });
  }

  function askToSignIn(reason) {
    session = null;
    if (expiryTimer) clearTimeout(expiryTimer);
    sessionStorage.removeItem(KEY.token);
    view.replaceChildren();
    nav.hidden = true;
    account.hidden = true;
    signinReason.textContent = reason;
    signin.hidden = false;
    setState("signed-out");
    document.getElementById("signin-heading").focus();
  }

  function sessionEnded() {
    askToSignIn("Your session has ended. Sign in again to continue.");
  }

  function usable(token, nonce) {
    var claims;
    try { claims = decodeClaims(token); } catch (ignored) { return null; }
    if (!claims || claims.aud !== CLIENT_ID || claims.token_use !== "id") return null;
    if (nonce !== undefined && claims.nonce !== nonce) return null;
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= Date.now()) return null;
    return claims;
  }

  function begin(token, claims) {
    var districts = String(claims["custom:district_id"] || "").split(",").map(function (d) {
      return d.trim();
    }).filter(Boolean);
    session = { token: token, claims: claims, districts: districts };
    sessionStorage.setItem(KEY.token, token);
    var chosen = sessionStorage.getItem(KEY.district);
    if (districts.indexOf(chosen) < 0) chosen = districts[0] || "";
    sessionStorage.setItem(KEY.district, chosen);
    if (districts.length > 1) {
      districtSwitch.replaceChildren();
      districts.forEach(function (d) {
        var option = document.createElement("option");
        option.value = d;
        option.textContent = d;
        option.selected = d === chosen;
        districtSwitch.appendChild(option);
      });
      districtMany.hidden = false;
      districtOne.hidden = true;
    } else {
      districtId.textContent = chosen;
      districtOne.hidden = false;
      districtMany.hidden = true;
    }
    if (expiryTimer) clearTimeout(expiryTimer);
    expiryTimer = setTimeout(sessionEnded, Math.max(0, claims.exp * 1000 - Date.now()));
    signin.hidden = true;
    nav.hidden = false;
    account.hidden = false;
    setState("signed-in");
    route();
  }

  function exchange(params) {
    var login = null;
    try { login = JSON.parse(sessionStorage.getItem(KEY.login) || "null"); } catch (ignored) { login = null; }
    sessionStorage.removeItem(KEY.login);
    window.history.replaceState(null, "", REDIRECT_URI + ((login && login.hash) || ""));
    if (!login || params.get("state") !== login.state) {
      askToSignIn("The sign-in answer did not match this tab's request. Sign in again.");
      return Promise.resolve();
    }
    return fetch(AUTH_URL + "/oauth2/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: CLIENT_ID,
        code: params.get("code") || "",
        redirect_uri: REDIRECT_URI,
        code_verifier: login.verifier
      }).toString(),
      cache: "no-store"
    }).then(function (response) {
      return response.json().then(function (answer) {
        var claims = response.ok ? usable(answer.id_token, login.nonce) : null;
        if (!claims) {
          askToSignIn("Sign-in failed. Try again.");
          return;
        }
        begin(answer.id_token, claims);
      });
    }).catch(function () {
      askToSignIn("The sign-in service could not be reached. Try again.");
    });
  }

  function signOut() {
    sessionStorage.removeItem(KEY.token);
    sessionStorage.removeItem(KEY.district);
    sessionStorage.removeItem(KEY.login);
    session = null;
    var params = new URLSearchParams({ client_id: CLIENT_ID, logout_uri: REDIRECT_URI });
    window.location.assign(AUTH_URL + "/logout?" + params.toString());
  }

  // -------------------------------------------------------------------------------------
  // Views.

  function authorised(init) {
    var headers = new Headers((init && init.headers) || {});
    headers.set("Authorization", "Bearer " + session.token);
    var district = sessionStorage.getItem(KEY.district);
    if (district) headers.set("X-OnPace-District", district);
    return Object.assign({}, init || {}, { headers: headers, cache: "no-store", credentials: "omit" });
  }

  function failed(response) {
    if (response.status === 401) {
      sessionEnded();
      return Promise.resolve(null);
    }
    return response.text().then(function (text) {
      var message = "";
      try { message = JSON.parse(text).message || ""; } catch (ignored) { message = ""; }
      showError("Error " + response.status + (message ? ": " + message : "."));
      setState("error");
      return null;
    });
  }

  function parseHash() {
    var hash = window.location.hash.replace(/^#\/?/, "");
    var at = hash.indexOf("?");
    var name = at < 0 ? hash : hash.slice(0, at);
    return { name: name || DEFAULT_VIEW, query: at < 0 ? "" : hash.slice(at + 1) };
  }

  function show(html) {
    view.innerHTML = html; // a server-rendered, autoescaped fragment of our own origin
    var heading = view.querySelector("h1, h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }

  function route() {
    if (!session) return;
    var target = parseHash();
    if (!VIEW_NAME.test(target.name)) target = { name: DEFAULT_VIEW, query: "" };
    Array.prototype.forEach.call(nav.querySelectorAll("a[data-view]"), function (link) {
      if (link.getAttribute("data-view") === target.name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    var mine = ++request;
    showError("");
    setState("loading");
    fetch(BASE + "/views/" + target.name + (target.query ? "?" + target.query : ""), authorised())
      .then(function (response) {
        if (mine !== request) return null;
        if (!response.ok) return failed(response);
        return response.text().then(function (html) {
          if (mine !== request) return;
          show(html);
          setState("ready");
        });
      })
      .catch(function () {
        if (mine !== request) return;
        showError("The console could not be reached. Check the connection and try again.");
        setState("error");
      });
  }

  function submitForm(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    if ((form.getAttribute("method") || "get").toLowerCase() === "get") {
      var params = new URLSearchParams();
      data.forEach(function (value, name) {
        if (typeof value === "string" && value.trim() !== "") params.append(name, value.trim());
      });
      var name = form.getAttribute("data-view") || parseHash().name;
      var next = "#/" + name + (params.toString() ? "?" + params.toString() : "");
      if (next === window.location.hash) route();
      else window.location.hash = next;
      return;
    }
    // POST forms: form-urlencoded with their csrf field; the answer replaces the view.
    var mine = ++request;
    setState("loading");
    var action = form.getAttribute("action") || "";
    fetch(action, authorised({
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(data).toString()
    })).then(function (response) {
      if (mine !== request) return null;
      if (!response.ok) return failed(response);
      return response.text().then(function (html) { show(html); setState("ready"); });
    }).catch(function () {
      showError("The console could not be reached. Check the connection and try again.");
      setState("error");
    });
  }

  function download(link) {
    fetch(link.getAttribute("href"), authorised()).then(function (response) {
      if (!response.ok) return failed(response);
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = url;
        a.download = link.getAttribute("data-download") || "download";
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      });
    });
  }

  // -------------------------------------------------------------------------------------
  // Wiring.

  document.getElementById("sign-in").addEventListener("click", function () { startSignIn(); });
  document.getElementById("sign-out").addEventListener("click", signOut);
  districtSwitch.addEventListener("change", function () {
    sessionStorage.setItem(KEY.district, districtSwitch.value);
    route();
  });
  window.addEventListener("hashchange", route);
  view.addEventListener("submit", function (event) {
    event.preventDefault();
    submitForm(event.target, event.submitter);
  });
  view.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-download]") : null;
    if (!link) return;
    event.preventDefault();
    download(link);
  });

  var params = new URLSearchParams(window.location.search);
  if (params.get("error")) {
    window.history.replaceState(null, "", REDIRECT_URI);
    askToSignIn("Sign-in was refused (" + params.get("error") + "). Try again.");
  } else if (params.get("code")) {
    exchange(params);
  } else {
    var stored = sessionStorage.getItem(KEY.token);
    var claims = stored ? usable(stored) : null;
    if (claims) begin(stored, claims);
    else askToSignIn(stored ? "Your session has ended. Sign in again to continue." :
      "Sign in as a district administrator to see your district's records.");
  }
})();
