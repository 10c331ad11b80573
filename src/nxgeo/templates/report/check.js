(function () {
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String((e && e.message) || e));
    if (document.body) { document.body.setAttribute('data-js-errors', errors.join(' | ')); }
  });
  window.addEventListener('load', function () {
    var imgs = Array.prototype.slice.call(document.images);
    var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
    var over = Array.prototype.slice.call(document.querySelectorAll('table.data')).filter(
      function (t) { return t.scrollWidth > t.parentElement.clientWidth + 1; });
    document.body.setAttribute('data-images-ok', ok ? 'true' : 'false');
    document.body.setAttribute('data-images-count', String(imgs.length));
    document.body.setAttribute('data-tables-overflow', over.map(function (t) { return t.id; }).join(' '));
    document.body.setAttribute('data-js-errors', errors.join(' | '));
  });
})();
