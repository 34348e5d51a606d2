// Pharos dashboard's only script: sections drawn later by the server
// (`data-src`: the narrative page's fact-checks and response pack, which
// need a read of the store), and the network page's click handler:
// clicking an account (node) or a pair (edge) lists the posts behind it,
// fetched from the API with the session cookie.
(function () {
  document.querySelectorAll('[data-src]').forEach(function (el) {
    fetch(el.getAttribute('data-src'), { credentials: 'same-origin' })
      .then(function (r) { return r.text().then(function (t) { return [r.ok, t]; }); })
      .then(function (rt) {
        if (rt[0]) { el.outerHTML = rt[1]; return; }
        var p = el.querySelector('p'); if (p) { p.className = 'note'; p.textContent = 'Could not load this section: reload the page.'; }
      })
      .catch(function () { var p = el.querySelector('p'); if (p) { p.className = 'note'; p.textContent = 'Could not load this section: reload the page.'; } });
  });
})();
(function () {
  var g = document.getElementById('graph');
  var out = document.getElementById('evidence');
  if (!g || !out) return;
  var net = g.closest('[data-network]').getAttribute('data-network');
  function esc(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function post(p) {
    return '<div class=post><div class=meta>' + esc(p.time) + ' · ' + esc(p.platform || '') + ' · ' + esc(p.account) +
      ' · ' + esc(p.id) + '</div><div>' + esc(p.text || '(no text)') + '</div>' +
      (p.link ? '<div class=meta>' + esc(p.link) + '</div>' : '') + '</div>';
  }
  function show(q, title) {
    g.querySelectorAll('.sel').forEach(function (e) { e.classList.remove('sel'); });
    out.innerHTML = '<p class=muted>Loading…</p>';
    fetch('/api/networks/' + net + '/posts?' + q, { credentials: 'same-origin' })
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (rj) {
        var j = rj[1];
        if (rj[0] !== 200) { out.innerHTML = '<p class=note>' + esc(j.message) + '</p>'; return; }
        var h = '<h2 id=evidence-title>' + esc(title) + '</h2><p class=muted>' + j.total + ' coordinated pairs' +
          (j.pairs.length < j.total ? ', ' + j.pairs.length + ' listed' : '') + '</p>';
        j.pairs.forEach(function (p) {
          h += '<div class=card style="margin-bottom:8px"><div class=meta>' + esc(p.from) + ' → ' + esc(p.to) +
            ' within ' + esc(p.time_delta) + ' s' + (p.object ? ' · shared ' + esc(p.object) : '') + '</div>' +
            post(p.post) + post(p.post_y) + '</div>';
        });
        out.innerHTML = h;
      })
      .catch(function (e) { out.innerHTML = '<p class=note>' + esc(e) + '</p>'; });
  }
  g.addEventListener('click', function (ev) {
    var t = ev.target;
    if (t.classList.contains('node')) {
      var a = t.getAttribute('data-account');
      show('account=' + encodeURIComponent(a), 'Posts of account ' + a);
      t.classList.add('sel');
    } else if (t.classList.contains('edge')) {
      var f = t.getAttribute('data-from'), to = t.getAttribute('data-to');
      show('account=' + encodeURIComponent(f) + '&peer=' + encodeURIComponent(to), 'Posts of ' + f + ' and ' + to);
      t.classList.add('sel');
    }
  });
})();
