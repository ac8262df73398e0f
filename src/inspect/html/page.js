// The stepper: reads the steps (inline JSON written by tapegrad) and shows
// one step at a time over the picture. Steps 1..N are the forward pass, one
// node each in tape order; the steps after them are the backward sweep, one
// node each in the order the tape swept. Every number shown is a string
// tapegrad wrote; the script only chooses which to show.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('steps').textContent);
  var nodes = D.nodes, back = D.backward;
  var F = nodes.length, S = F + back.length;
  var $ = function (id) { return document.getElementById(id); };
  var graph = $('graph'), slider = $('slider'), playButton = $('play'), zoom = $('zoom');

  // Each node's view: the element to light up, its op, its value and gradient text.
  var views = [], edges = {};
  function setUpPicture() {
    var svg = graph.querySelector('svg');
    for (var i = 0; i < F; i++) {
      var box = $('n' + i), texts = box.querySelectorAll('text');
      views.push({ box: box, op: $('n' + i + '_op'), data: texts[1], grad: texts[2] });
    }
    svg.querySelectorAll('path.edge').forEach(function (p) {
      edges[p.getAttribute('data-from') + '>' + p.getAttribute('data-to')] = p;
    });
  }
  function setUpList() {
    var list = $('list');
    list.hidden = false;
    var head = list.insertRow();
    ['node', 'computed by', 'data', 'grad'].forEach(function (h) {
      var th = document.createElement('th');
      th.textContent = h;
      head.appendChild(th);
    });
    nodes.forEach(function (n, i) {
      var row = list.insertRow();
      row.id = 'n' + i;
      row.className = 'node';
      row.insertCell().textContent = n.title;
      row.insertCell().textContent = n.op ? n.op + '(' + n.inputs.map(function (k) { return '#' + k; }).join(', ') + ')' : n.kind;
      var data = row.insertCell(), grad = row.insertCell();
      data.className = grad.className = 'num';
      views.push({ box: row, op: null, data: data, grad: grad });
    });
  }
  if (D.drawn) { setUpPicture(); } else { setUpList(); zoom.hidden = true; }

  // Writes text only when it changes: a few hundred nodes stay quick.
  function put(el, text) { if (el && el.textContent !== text) { el.textContent = text; } }
  function mark(el, cls, on) { if (el) { el.classList.toggle(cls, on); } }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function row(what, value) {
    var r = el('div', 'row');
    r.appendChild(el('span', 'what', what));
    r.appendChild(el('span', 'num', value));
    return r;
  }
  function nodeName(i) { return nodes[i].title; }
  var lit = [];
  function light(from, to) {
    var p = edges[from + '>' + to];
    if (p) { p.classList.add('hot'); lit.push(p); }
  }

  var step = 1;
  function show(s, scroll) {
    step = Math.min(Math.max(1, s | 0), S);
    var forward = step <= F, cur = forward ? step - 1 : back[step - F - 1].node;
    var done = forward ? step - 1 : F - 1; // the last node whose value is shown
    var grads = new Array(F).fill(null), swept = new Array(F).fill(false);
    for (var j = 0; j <= step - F - 1; j++) {
      var b = back[j];
      grads[b.node] = b.upstream;
      swept[b.node] = true;
      b.sends.forEach(function (x) { grads[x.to] = x.total; });
    }
    var gets = {};
    if (!forward) { back[step - F - 1].sends.forEach(function (x) { gets[x.to] = true; }); }
    document.body.classList.toggle('forward', forward);
    document.body.classList.toggle('backward', !forward);
    views.forEach(function (v, i) {
      var n = nodes[i], computed = i <= done;
      put(v.data, (D.drawn ? 'data ' : '') + (computed ? n.data : '?'));
      var g = n.grad === '-' ? '-' : (grads[i] === null ? '?' : grads[i]);
      put(v.grad, (D.drawn ? 'grad ' : '') + g);
      mark(v.box, 'later', !computed);
      mark(v.op, 'later', !computed);
      mark(v.box, 'now', i === cur);
      mark(v.op, 'now', i === cur);
      mark(v.box, 'gets', !!gets[i]);
      mark(v.box, 'done', swept[i]);
    });
    lit.forEach(function (p) { p.classList.remove('hot'); });
    lit = [];
    if (nodes[cur].op) {
      var into = forward ? nodes[cur].inputs : Object.keys(gets);
      into.forEach(function (k) { light('n' + k, 'n' + cur + '_op'); });
      if (forward || into.length) { light('n' + cur + '_op', 'n' + cur); }
    }
    (forward ? explainForward : explainBackward)(cur, step - F - 1);
    slider.value = step;
    put($('counter'), 'step ' + step + ' of ' + S + (forward
      ? ' \u00b7 forward ' + step + '/' + F
      : ' \u00b7 backward ' + (step - F) + '/' + back.length));
    if (location.hash !== '#step=' + step) { location.replace('#step=' + step); }
    if (scroll && views[cur].box.scrollIntoView) {
      views[cur].box.scrollIntoView({ block: 'nearest', inline: 'center', behavior: scroll === 'jump' ? 'auto' : 'smooth' });
    }
  }

  function explainForward(i) {
    var n = nodes[i], detail = $('detail');
    $('phase').textContent = 'Forward pass';
    $('phase').className = 'forward';
    $('headline').textContent = n.title;
    put($('lede'), 'The forward pass computes each node from its inputs, in the order the tape recorded them.');
    detail.textContent = '';
    if (n.kind === 'constant') {
      detail.appendChild(el('p', '', 'A constant: an input given to the tape. No gradient flows to it.'));
    } else if (n.kind === 'leaf') {
      detail.appendChild(el('p', '', 'A leaf: a parameter given to the tape. The backward sweep will end at it with its gradient.'));
    } else {
      detail.appendChild(el('p', '', 'Computes ' + n.op + ' of ' + n.inputs.map(function (k) { return '#' + k; }).join(', ') + ':'));
      n.inputs.forEach(function (k) { detail.appendChild(row('input ' + nodeName(k), nodes[k].data)); });
    }
    detail.appendChild(row('value', n.data));
    put($('said'), 'In one line:');
    $('line').textContent = 'node ' + i + ' ' + (n.op || n.kind) + ': data ' + n.data;
  }

  function explainBackward(i, j) {
    var b = back[j], n = nodes[i], detail = $('detail');
    $('phase').textContent = 'Backward sweep';
    $('phase').className = 'backward';
    $('headline').textContent = n.title + (n.op ? ' \u2190 ' + n.op : '');
    put($('lede'), n.op
      ? 'The chain rule at this node: the gradient that reached it (upstream) times its local derivative is what it sends to each input; each input adds it to the gradient it has so far.'
      : 'The sweep reaches a leaf: everything that used it has sent its share.');
    detail.textContent = '';
    if (j === 0) {
      detail.appendChild(el('p', '', 'The sweep starts at the output: d(output)/d(output) = 1.'));
    }
    if (!n.op) {
      detail.appendChild(el('p', '', 'A leaf has no inputs: nothing to send on. The sum of the shares is its gradient.'));
      detail.appendChild(row('gradient d(output)/d(' + n.title + ')', b.upstream));
    } else {
      detail.appendChild(row('upstream: d(output)/d(this node), the sum of what later nodes sent', b.upstream));
      b.local.forEach(function (l) {
        detail.appendChild(row('local derivative', l.value === null ? l.text : l.text + ' = ' + l.value));
      });
      if (!b.sends.length) {
        detail.appendChild(el('p', '', 'No input needs a gradient: nothing is sent.'));
      }
      b.sends.forEach(function (x) {
        var box = el('div', 'send');
        box.appendChild(row('sends to ' + nodeName(x.to) + ' (upstream \u00d7 local)', x.value));
        if (x.note) { box.appendChild(el('span', 'note', x.note)); }
        box.appendChild(row(nodeName(x.to) + "'s gradient so far", x.total));
        detail.appendChild(box);
      });
    }
    put($('said'), 'The trace prints (Var::backward_traced):');
    if (j === back.length - 1) {
      detail.appendChild(el('p', '', 'The sweep is done: every box now shows the gradient backward() returns.'));
    }
    $('line').textContent = b.line;
  }

  // Controls: buttons, arrow keys, the slider, play / pause, the URL.
  var timer = null;
  function pause() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = '\u25b6 play';
  }
  function play() {
    if (step >= S) { show(1, true); }
    playButton.textContent = '\u275a\u275a pause';
    timer = setInterval(function () {
      if (step >= S) { pause(); } else { show(step + 1, true); }
    }, 1100);
  }
  slider.max = S;
  $('prev').onclick = function () { pause(); show(step - 1, true); };
  $('next').onclick = function () { pause(); show(step + 1, true); };
  playButton.onclick = function () { if (timer === null) { play(); } else { pause(); } };
  slider.oninput = function () { pause(); show(+slider.value, true); };
  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var onSlider = e.target === slider; // the slider moves itself with the arrows
    if (e.key === 'ArrowRight' && !onSlider) { pause(); show(step + 1, true); e.preventDefault(); }
    else if (e.key === 'ArrowLeft' && !onSlider) { pause(); show(step - 1, true); e.preventDefault(); }
    else if (e.key === 'Home') { pause(); show(1, true); e.preventDefault(); }
    else if (e.key === 'End') { pause(); show(S, true); e.preventDefault(); }
    else if (e.key === ' ' && e.target.tagName !== 'BUTTON') { playButton.onclick(); e.preventDefault(); }
  });
  function fromHash() {
    var m = /step=(\d+)/.exec(location.hash);
    return m ? +m[1] : 1;
  }
  window.addEventListener('hashchange', function () {
    if (fromHash() !== step) { pause(); show(fromHash(), true); }
  });

  // The picture fits the window when that keeps its text readable (at
  // least 60% of full size); otherwise it scrolls at full size.
  function fitsReadably() {
    var svg = graph.querySelector('svg');
    var w = +svg.getAttribute('width');
    return w * 0.6 <= graph.clientWidth;
  }
  function setFit(fit) {
    graph.classList.toggle('fit', fit);
    zoom.textContent = fit ? 'full size' : 'fit to window';
  }
  if (D.drawn) {
    var svg = graph.querySelector('svg');
    document.body.classList.toggle('wide', +svg.getAttribute('width') > 2.5 * +svg.getAttribute('height'));
    setFit(fitsReadably());
    zoom.onclick = function () { setFit(!graph.classList.contains('fit')); show(step, true); };
  }
  show(fromHash(), 'jump');
})();
