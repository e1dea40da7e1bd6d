/* Civitas door kiosk: shows the door's challenge, sends the member's presentation,
   shows the decision. Plain JavaScript, no libraries, nothing loaded from elsewhere;
   every text is set with textContent. */
(function () {
  'use strict';

  function byId(id) { return document.getElementById(id); }

  var els = {
    connection: byId('connection'),
    qr: byId('challenge-qr'),
    qrWait: byId('challenge-wait'),
    nonce: byId('challenge-nonce'),
    audience: byId('challenge-audience'),
    expires: byId('challenge-expires'),
    form: byId('checkin-form'),
    input: byId('presentation'),
    result: byId('result'),
    title: byId('result-title'),
    detail: byId('result-detail'),
    reasons: byId('result-reasons')
  };

  var resultMs = parseInt(document.body.getAttribute('data-result-ms'), 10);
  if (!(resultMs > 0)) { resultMs = 6000; }

  var challengeTimer = 0;   // next challenge refresh
  var countdownTimer = 0;   // ticks the "valid for" text
  var clearTimer = 0;       // clears a shown decision
  var expiresAt = 0;        // the current challenge's end, on this browser's clock
  var loading = 0;          // sequence of challenge loads; only the latest is shown
  var submission = 0;       // sequence of submissions; only the latest is shown
  var outcomes = 0;         // decisions and errors shown so far (data-count, for tests)

  var requestMs = 15000;     // a door that answers slower than this has failed

  // fetch with a time limit, so that a door that hangs shows as an error and not as a
  // page that checks for ever.
  function fetchWithin(url, opts) {
    var timer = 0;
    if (typeof AbortController === 'function') {
      var ctl = new AbortController();
      timer = window.setTimeout(function () { ctl.abort(); }, requestMs);
      opts.signal = ctl.signal;
    }
    var done = function () { window.clearTimeout(timer); };
    return fetch(url, opts).then(function (resp) {
      // Reading the body is bounded too; the timer stops once it is read.
      return resp.text().then(function (body) {
        done();
        return { status: resp.status, ok: resp.ok, headers: resp.headers, body: body };
      });
    }).catch(function (err) {
      done();
      throw err;
    });
  }

  function parse(body) {
    try { return JSON.parse(body); } catch (e) { return null; }
  }

  // ---- challenge ---------------------------------------------------------------

  function loadChallenge() {
    var mine = ++loading;
    window.clearTimeout(challengeTimer);
    fetchWithin('/api/challenge', { cache: 'no-store', headers: { 'Accept': 'application/json' } })
      .then(function (r) {
        if (mine !== loading) { return; }
        if (!r.ok) { throw new Error('status ' + r.status); }
        // The server's clock (Date header) measures the challenge's life, so a kiosk
        // whose own clock is off still refreshes in time.
        showChallenge(parse(r.body), Date.parse(r.headers.get('Date') || ''));
      })
      .catch(function () {
        if (mine !== loading) { return; }
        noChallenge();
      });
  }

  function showChallenge(c, serverNow) {
    if (!c || typeof c.nonce !== 'string' || c.nonce === '' || typeof c.audience !== 'string') {
      noChallenge();
      return;
    }
    var end = Date.parse(c.expires);
    // The Date header counts whole seconds: take the challenge to end a second early.
    var life = isNaN(end) ? 60000 : isNaN(serverNow) ? end - Date.now() : end - serverNow - 1000;
    expiresAt = Date.now() + life;

    els.nonce.textContent = c.nonce;
    els.audience.textContent = c.audience;
    els.qr.onload = function () { els.qr.hidden = false; els.qrWait.hidden = true; };
    els.qr.onerror = function () {
      els.qr.hidden = true;
      els.qrWait.hidden = false;
      els.qrWait.textContent = 'The QR code could not be drawn. Getting a new one…';
      scheduleChallenge(3000);
    };
    // One image per nonce: the address changes with the challenge, so no cache can
    // show an old one.
    els.qr.src = '/api/challenge.png?nonce=' + encodeURIComponent(c.nonce);
    setConnection(true);
    tick();

    // Refresh well before the end: a quarter of the life, at least five seconds.
    var margin = Math.max(5000, life / 4);
    scheduleChallenge(Math.min(Math.max(life - margin, 2000), 600000));
  }

  function noChallenge() {
    els.qr.hidden = true;
    els.qrWait.hidden = false;
    els.qrWait.textContent = 'No challenge: the door is not answering. Retrying…';
    els.nonce.textContent = '';
    els.audience.textContent = '';
    els.expires.textContent = '';
    expiresAt = 0;
    setConnection(false);
    scheduleChallenge(3000);
  }

  function scheduleChallenge(ms) {
    window.clearTimeout(challengeTimer);
    challengeTimer = window.setTimeout(loadChallenge, ms);
  }

  function tick() {
    window.clearTimeout(countdownTimer);
    if (!expiresAt) { return; }
    var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    var m = Math.floor(left / 60);
    var s = left % 60;
    els.expires.textContent = m + ':' + (s < 10 ? '0' : '') + s + (left === 0 ? ' (expired)' : '');
    countdownTimer = window.setTimeout(tick, 1000);
  }

  function setConnection(ok) {
    var text = ok ? 'Connected to the door' : 'Door not answering — retrying';
    // Only a change is announced.
    if (els.connection.textContent !== text) {
      els.connection.textContent = text;
      els.connection.className = ok ? 'connection' : 'connection offline';
    }
  }

  // ---- check-in ----------------------------------------------------------------

  function submit(ev) {
    if (ev) { ev.preventDefault(); }
    var text = els.input.value.trim();
    if (text === '') { els.input.focus(); return; }
    els.input.value = '';
    var mine = ++submission;
    showChecking();
    // The challenge on screen is spent: show the next member a fresh one now.
    loadChallenge();
    fetchWithin('/api/checkin', {
      method: 'POST',
      cache: 'no-store',
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Accept': 'application/json' },
      body: text
    })
      .then(function (r) {
        if (mine !== submission) { return; }
        render(r.status, parse(r.body));
      })
      .catch(function () {
        if (mine !== submission) { return; }
        setConnection(false);
        show('error', 'NOT CHECKED', 'Nobody was admitted.',
          ['The kiosk could not reach the door, or it did not answer in time. Try again.']);
      });
    els.input.focus();
  }

  function render(status, data) {
    if (status === 200 && data && typeof data.decision === 'string') {
      showDecision(data);
      return;
    }
    var detail = data && typeof data.detail === 'string' ? data.detail : '';
    switch (status) {
      case 400:
      case 415:
        show('error', 'NOT READ', 'That was not a member\'s presentation. Ask them to show their code again.',
          detail ? [detail] : []);
        break;
      case 413:
        show('error', 'NOT READ', 'That code is far too large to be a member\'s presentation.', []);
        break;
      case 503:
        show('error', 'NOT CHECKED', 'Nobody was admitted.',
          ['The door could not decide. Try again, or call the site lead.']);
        break;
      default:
        show('error', 'NOT CHECKED', 'Nobody was admitted.',
          ['Unexpected answer from the door (HTTP ' + status + '). Try again, or call the site lead.']);
    }
  }

  function showDecision(d) {
    var reasons = Array.isArray(d.reasons) ? d.reasons.filter(isText) : [];
    if (reasons.length === 0 && Array.isArray(d.codes)) { reasons = d.codes.filter(isText); }
    var on = typeWords(d.type);
    var entry = typeof d.seq === 'number' && d.seq > 0 ? ' Ledger entry ' + d.seq + '.' : '';
    // Fail closed: only a decision that says admitted in both fields admits.
    if (d.decision === 'admitted' && d.admitted === true) {
      show('admitted', 'ADMITTED', 'Welcome in' + (on ? ' — ' + on : '') + '.' + entry, reasons);
    } else if (d.decision === 'admitted-flagged' && d.admitted === true) {
      show('flagged', 'ADMITTED — FLAGGED', 'Let them in. This check-in is flagged for review.' + entry, reasons);
    } else {
      if (reasons.length === 0) { reasons = ['No reason given.']; }
      show('refused', 'REFUSED', 'Do not admit.' + entry, reasons);
    }
  }

  function isText(s) { return typeof s === 'string' && s !== ''; }

  // "ResidencyCredential" -> "residency".
  function typeWords(t) {
    if (typeof t !== 'string' || t === '') { return ''; }
    var base = t.replace(/Credential$/, '');
    return base.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  }

  var classes = {
    idle: 'result result-idle',
    checking: 'result result-checking',
    admitted: 'result result-admitted',
    flagged: 'result result-flagged',
    refused: 'result result-refused',
    error: 'result result-error'
  };

  var decisions = { admitted: 'admitted', flagged: 'admitted-flagged', refused: 'refused', error: 'error' };

  function show(kind, title, detail, reasons) {
    window.clearTimeout(clearTimer);
    els.result.className = classes[kind];
    els.title.textContent = title;
    els.detail.textContent = detail;
    while (els.reasons.firstChild) { els.reasons.removeChild(els.reasons.firstChild); }
    reasons.forEach(function (r) {
      var li = document.createElement('li');
      li.textContent = r;
      els.reasons.appendChild(li);
    });
    els.result.setAttribute('data-decision', decisions[kind] || '');
    outcomes++;
    els.result.setAttribute('data-count', String(outcomes));
    clearTimer = window.setTimeout(showIdle, resultMs);
  }

  function showChecking() {
    window.clearTimeout(clearTimer);
    els.result.className = classes.checking;
    els.result.setAttribute('data-decision', 'checking');
    els.title.textContent = 'Checking…';
    els.detail.textContent = '';
    while (els.reasons.firstChild) { els.reasons.removeChild(els.reasons.firstChild); }
  }

  function showIdle() {
    els.result.className = classes.idle;
    els.result.setAttribute('data-decision', '');
    els.title.textContent = 'Ready';
    els.detail.textContent = 'Waiting for a member.';
    while (els.reasons.firstChild) { els.reasons.removeChild(els.reasons.firstChild); }
    els.input.focus();
  }

  // ---- wiring ------------------------------------------------------------------

  els.form.addEventListener('submit', submit);
  els.input.addEventListener('keydown', function (ev) {
    // A scanner ends with Enter; Shift+Enter keeps a line break for pasted JSON.
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { submit(ev); }
  });
  // Some keyboards and drivers deliver the Enter character apart from its key press:
  // keep it out of the emptied field.
  els.input.addEventListener('keypress', function (ev) {
    if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); }
  });
  els.input.addEventListener('input', function () {
    if (els.input.value.trim() === '') { els.input.value = ''; }
  });
  loadChallenge();
  els.input.focus();
}());
