// Passkeys: ask the browser to make one (form[data-passkey="create"]) or to use one
// (form[data-passkey="get"]), with the options the server put in #passkey-options, and post
// its answer as the form's "answer" field (JSON). When the browser says no (cancelled, timed
// out, already registered) its error's name goes in "error" instead, so the server's page
// says what happened. Without WebAuthn the page says so and the button stays hidden. A static
// file of our own: the CSP allows no inline script.
(function () {
  "use strict";
  var form = document.querySelector("form[data-passkey]");
  var data = document.getElementById("passkey-options");
  if (!form || !data) return;
  var start = form.querySelector("[data-passkey-start]");
  if (!window.PublicKeyCredential || !navigator.credentials) {
    var unsupported = document.querySelector("[data-passkey-unsupported]");
    if (unsupported) unsupported.hidden = false;
    return;
  }
  start.hidden = false;
  var mode = form.getAttribute("data-passkey");

  function bytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out.buffer;
  }

  function text(buffer) {
    var binary = "";
    var view = new Uint8Array(buffer);
    for (var i = 0; i < view.length; i++) binary += String.fromCharCode(view[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: bytes(item.id), transports: item.transports };
    });
  }

  function publicKey() {
    var options = JSON.parse(data.textContent);
    var key = Object.assign({}, options, { challenge: bytes(options.challenge) });
    if (mode === "create") {
      key.user = Object.assign({}, options.user, { id: bytes(options.user.id) });
      key.excludeCredentials = descriptors(options.excludeCredentials);
    } else {
      key.allowCredentials = descriptors(options.allowCredentials);
    }
    return key;
  }

  function answer(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: text(response.clientDataJSON) },
    };
    if (mode === "create") {
      out.response.attestationObject = text(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = text(response.authenticatorData);
      out.response.signature = text(response.signature);
      if (response.userHandle) out.response.userHandle = text(response.userHandle);
    }
    return JSON.stringify(out);
  }

  function send(field, value) {
    form.elements[field].value = value;
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (form.elements.answer.value || form.elements.error.value) return;
    event.preventDefault();
    var name = form.elements.name;
    if (name && !name.value.trim()) {
      name.setAttribute("required", "");
      form.reportValidity();
      return;
    }
    start.disabled = true;
    var ask = mode === "create"
      ? navigator.credentials.create({ publicKey: publicKey() })
      : navigator.credentials.get({ publicKey: publicKey() });
    ask.then(function (credential) {
      if (!credential) return send("error", "NotAllowedError");
      send("answer", answer(credential));
    }, function (error) {
      send("error", (error && error.name) || "UnknownError");
    });
  });
})();
