/* digest search, the page (templates/search.html): the form and its state in the URL,
   the filters and their counts, the tag and author suggestions, the results and the
   keyboard. Matching and the index are assets/search-core.js's (`window.digestSearch`).
   No framework, no other host. */
(function () {
  "use strict";

  var core = window.digestSearch;
  var words = core.words;
  var valueKey = core.valueKey;
  var authorsShort = core.authorsShort;
  var MAX_LISTED_AUTHORS = core.maxListedAuthors;

  var form = document.getElementById("search-form");
  if (!form) return;
  var PAGE = 20; /* results shown at first, and added by "Show more" */
  var CHOICES = 10; /* values a tag or author filter suggests */
  var ISSUE_CHOICES = 60; /* issues the issue filter lists */
  var SELECTS = ["topic", "contribution", "issue", "year"];
  var TYPED = ["tag", "author"];
  var control = {};
  ["q", "code"].concat(SELECTS, TYPED).forEach(function (name) {
    control[name] = form.elements.namedItem(name);
  });
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var codeCount = document.getElementById("search-code-count");
  var filtersBox = document.getElementById("search-filters-box");
  var chosen = document.getElementById("search-chosen");
  var title = document.title;
  var index = null;
  var outcome = null; /* the last search's result */
  var shown = 0;
  var pending = false;
  var searched = null; /* the state the results show, as JSON */
  var asking = 0; /* the number of the latest search: an older one's answer is dropped */
  var running = false; /* whether the latest search is still under way */

  function link(pattern, value) {
    return form.getAttribute(pattern).replace("{}", encodeURIComponent(value));
  }

  /* ------------------------------------------------ state: the form and the URL */

  function state() {
    var current = { q: control.q.value.trim(), code: control.code.checked };
    SELECTS.forEach(function (name) { current[name] = control[name].value; });
    TYPED.forEach(function (name) { current[name] = control[name].value.trim(); });
    return current;
  }

  function fromUrl() {
    var params = new URLSearchParams(window.location.search);
    control.q.value = params.get("q") || "";
    control.code.checked = params.get("code") === "1";
    SELECTS.forEach(function (name) {
      var value = params.get(name) || "";
      var select = control[name];
      if (name === "issue") {
        setChoice(select, value); /* its options come with the index */
        return;
      }
      select.value = Array.prototype.some.call(select.options, function (o) {
        return o.value === value;
      }) ? value : "";
    });
    TYPED.forEach(function (name) { control[name].value = params.get(name) || ""; });
  }

  function toUrl(current) {
    var params = new URLSearchParams();
    if (current.q) params.set("q", current.q);
    SELECTS.concat(TYPED).forEach(function (name) {
      if (current[name]) params.set(name, current[name]);
    });
    if (current.code) params.set("code", "1");
    var text = params.toString();
    var url = window.location.pathname + (text ? "?" + text : "");
    if (url !== window.location.pathname + window.location.search) {
      window.history.replaceState(null, "", url);
    }
    document.title = current.q ? "“" + current.q + "” — " + title : title;
  }

  /* ------------------------------------------------ the filters and their counts */

  function option(value, text) {
    var node = document.createElement("option");
    node.value = value;
    node.textContent = text;
    return node;
  }

  function labelled(label, count) {
    return label + " (" + count + ")";
  }

  /* A select whose options are filled in by the script holds at least its "Any" option
     and the chosen value. */
  function setChoice(select, value) {
    select.removeAttribute("data-counted");
    while (select.options.length > 1) select.remove(1);
    if (value) select.add(option(value, value));
    select.value = value;
  }

  /* Topic, contribution, year: fixed options, their counts updated; a value no paper
     would match is disabled, unless it is the chosen one. */
  function countFixed(select, counts, any) {
    var options = select.options;
    options[0].textContent = labelled("Any", any);
    for (var i = 1; i < options.length; i++) {
      var node = options[i];
      if (!node.hasAttribute("data-label")) node.setAttribute("data-label", node.textContent);
      var count = counts[i - 1];
      node.textContent = labelled(node.getAttribute("data-label"), count);
      node.disabled = count === 0 && !node.selected;
    }
  }

  /* Years come from the index, newest first: the page lists them in that order. */
  function countYears(counts, any) {
    var byYear = {};
    index.years.forEach(function (year, i) { byYear[year] = counts[i]; });
    var options = control.year.options;
    options[0].textContent = labelled("Any", any);
    for (var i = 1; i < options.length; i++) {
      var node = options[i];
      node.textContent = labelled(node.value, byYear[node.value] || 0);
      node.disabled = !byYear[node.value] && !node.selected;
    }
  }

  /* Issues: the newest `ISSUE_CHOICES` some paper would be listed under (choosing a
     year narrows them to its issues), and the chosen one. Rebuilt only when they or
     their counts change: a site of 100,000 papers has thousands of issues. */
  function countIssues(counts, any) {
    var select = control.issue;
    var value = select.value;
    var listed = [];
    var older = false;
    for (var i = index.issues.length - 1; i >= 0; i--) {
      var issue = index.issues[i];
      if (issue.date === value || (counts[i] > 0 && listed.length < ISSUE_CHOICES)) {
        listed.push(i);
      } else if (counts[i] > 0) {
        older = true;
      }
    }
    var signature = any + ":" + older + ":" + listed.map(function (i) {
      return i + "=" + counts[i];
    }).join(",");
    if (select.getAttribute("data-counted") === signature) return;
    select.setAttribute("data-counted", signature);
    select.options[0].textContent = labelled("Any", any);
    while (select.options.length > 1) select.remove(1);
    listed.forEach(function (i) {
      select.add(option(index.issues[i].date, labelled(index.issues[i].label, counts[i])));
    });
    if (older) {
      var hint = option("", "Older issues: choose a year");
      hint.disabled = true;
      select.add(hint);
    }
    select.value = value;
  }

  function showCounts(counts, current) {
    countFixed(control.topic, counts.topic, counts.any.topic);
    countFixed(control.contribution, counts.contribution, counts.any.contribution);
    countYears(counts.year, counts.any.year);
    countIssues(counts.issue, counts.any.issue);
    codeCount.textContent = "(" + counts.code + ")";
    TYPED.forEach(function (name) {
      var count = document.getElementById("search-" + name + "-count");
      count.textContent = current[name] && outcome.unknown.indexOf(name) < 0 ?
        "(" + outcome.papers.length + ")" : "";
    });
  }

  /* ------------------------------------------------ suggestions */

  /* A tag or author field suggests values as a list box under it (the ARIA 1.2
     combobox pattern): arrows move through them, Enter or a click chooses one,
     Escape closes the list. */
  function Suggestions(name) {
    this.name = name;
    this.input = control[name];
    this.list = document.getElementById("search-" + name + "-list");
    this.note = document.getElementById("search-" + name + "-note");
    this.active = -1;
    this.asked = 0;
    var self = this;
    this.input.addEventListener("input", function (event) {
      event.stopPropagation(); /* typing a value does not search until it is chosen */
      self.update();
    });
    this.input.addEventListener("keydown", function (event) { self.key(event); });
    this.input.addEventListener("blur", function () { self.close(); });
    this.list.addEventListener("mousedown", function (event) {
      event.preventDefault(); /* keep the focus in the field */
      var item = event.target.closest("[role=option]");
      if (item) self.choose(item.getAttribute("data-value"));
    });
  }

  Suggestions.prototype.update = function () {
    var self = this;
    var asked = ++this.asked;
    if (!index || !outcome) return;
    var typed = this.input.value;
    index.suggest(this.name, typed, outcome, CHOICES).then(function (found) {
      if (asked !== self.asked) return;
      self.show(found, typed);
    }, function () { self.close(); });
  };

  Suggestions.prototype.show = function (found, typed) {
    var list = this.list;
    list.textContent = "";
    this.active = -1;
    var self = this;
    found.values.forEach(function (value, i) {
      var item = element("li", "search-suggestion");
      item.id = "search-" + self.name + "-option-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.setAttribute("data-value", value.name);
      appendMarked(item, value.name, words(typed), 1);
      item.appendChild(element("span", "search-count", " (" + value.count + ")"));
      list.appendChild(item);
    });
    var open = found.values.length > 0;
    list.hidden = !open;
    this.input.setAttribute("aria-expanded", open ? "true" : "false");
    this.input.removeAttribute("aria-activedescendant");
    this.note.textContent = found.more ? "Type more of the " + this.name + " to see suggestions." :
      typed.trim() && !open ? "No " + this.name + " starting so among the matches." : "";
  };

  Suggestions.prototype.close = function () {
    this.asked++;
    this.list.hidden = true;
    this.list.textContent = "";
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.note.textContent = "";
  };

  Suggestions.prototype.move = function (step) {
    var items = this.list.children;
    if (!items.length) return;
    if (this.active >= 0) items[this.active].setAttribute("aria-selected", "false");
    this.active = (this.active + step + items.length) % items.length;
    items[this.active].setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", items[this.active].id);
  };

  Suggestions.prototype.key = function (event) {
    var open = !this.list.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) return;
      event.preventDefault();
      this.move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && open && this.active >= 0) {
      event.preventDefault();
      this.choose(this.list.children[this.active].getAttribute("data-value"));
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      this.close();
    }
  };

  Suggestions.prototype.choose = function (value) {
    this.input.value = value;
    this.close();
    schedule();
  };

  /* ------------------------------------------------ the results */

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  /* Whether a query word matches `word`: whole, or as its start when long enough
     (`shortest`: the index's minimum prefix; a filter's suggestions mark any start). */
  function startsWithTerm(word, terms, shortest) {
    var least = shortest === undefined ? index.head.min_prefix : shortest;
    return terms.some(function (term) {
      return word === term || (term.length >= least && word.indexOf(term) === 0);
    });
  }

  /* `text` into `parent`, each word that a query word matches in a <mark>. */
  function appendMarked(parent, text, terms, shortest) {
    if (!terms.length) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    var pattern = /[\p{L}\p{N}\p{M}×]+/gu;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var hit = words(match[0]).some(function (word) {
        return startsWithTerm(word, terms, shortest);
      });
      if (!hit) continue;
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      parent.appendChild(element("mark", "", match[0]));
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function namedBy(text, terms) {
    return words(text).some(function (word) { return startsWithTerm(word, terms); });
  }

  /* The author line, and the authors it leaves out that the query or the author filter
     names: "Bowen Cui et al. (with Ana Ruiz)". */
  function authorLine(row, terms, author) {
    var line = authorsShort(row.authors, row.etAl);
    var named = row.authors.filter(function (name, at) {
      var listed = !(row.etAl || row.authors.length > MAX_LISTED_AUTHORS) || at === 0;
      if (listed) return false;
      return namedBy(name, terms) || (author && valueKey(name) === valueKey(author));
    });
    return named.length ? line + " (with " + named.join(", ") + ")" : line;
  }

  function resultItem(row, terms, current) {
    var item = element("li", "search-result");
    item.setAttribute("data-paper", row.id);
    var heading = element("h2", "search-result-title");
    var name = element("a");
    name.href = link("data-paper-url", row.id);
    appendMarked(name, row.title, terms);
    heading.appendChild(name);
    item.appendChild(heading);
    var meta = element("p", "search-result-meta");
    var authors = authorLine(row, terms, current.author);
    if (authors) {
      appendMarked(meta.appendChild(element("span", "search-result-authors")), authors, terms);
      meta.appendChild(document.createTextNode(" · "));
    }
    var date = element("a", "search-result-date");
    date.href = link("data-issue-url", row.issue.date);
    var time = element("time", "", row.issue.label);
    time.setAttribute("datetime", row.issue.date);
    date.appendChild(time);
    meta.appendChild(date);
    item.appendChild(meta);
    if (row.line) {
      appendMarked(item.appendChild(element("p", "search-result-line")), row.line, terms);
    }
    var chips = element("ul", "search-result-chips");
    row.topics.forEach(function (number) {
      var topic = index.topics[number];
      var chip = element("a", "search-chip");
      chip.href = link("data-topic-url", topic.slug);
      appendMarked(chip, topic.title, terms);
      chips.appendChild(element("li")).appendChild(chip);
    });
    if (row.code) {
      var code = element("a", "search-chip search-code", "Code");
      code.href = row.code;
      code.appendChild(element("span", "visually-hidden", ": " + (row.short || row.title)));
      chips.appendChild(element("li")).appendChild(code);
    }
    if (chips.firstChild) item.appendChild(chips);
    return item;
  }

  /* Results `from` up to `upTo`, added to the list once their rows are loaded (in place
     of what it lists, with `replace`); resolves when they are shown (false when a newer
     search came first). */
  function showResults(from, upTo, current, asked, replace) {
    return index.rows(Array.prototype.slice.call(outcome.papers, from, upTo)).then(function (rows) {
      if (asked !== asking) return false;
      if (replace) results.textContent = "";
      rows.forEach(function (row) {
        results.appendChild(resultItem(row, outcome.terms, current));
      });
      shown = upTo;
      var left = outcome.papers.length - shown;
      more.hidden = left <= 0;
      more.textContent = "Show " + Math.min(left, PAGE) + " more";
      return true;
    });
  }

  function quoted(text) {
    return "“" + text + "”";
  }

  function filtersChosen(current) {
    return SELECTS.concat(TYPED).filter(function (name) { return current[name]; }).length +
      (current.code ? 1 : 0);
  }

  function statusText(current) {
    var count = outcome.papers.length;
    if (!outcome.terms.length && outcome.common.length) {
      return quoted(current.q) + " has only words too common to search for (" +
        outcome.common.join(", ") + "); try a more specific word.";
    }
    var text;
    if (!current.q && !filtersChosen(current)) {
      text = (count === 1 ? "1 paper" : count + " papers") +
        ", newest first. Type words or choose filters to narrow them.";
    } else if (count === 0) {
      text = "No paper matches. Try fewer or shorter words, or clear a filter.";
    } else {
      text = count === 1 ? "1 paper matches." : count + " papers match.";
    }
    outcome.unknown.forEach(function (name) {
      text += " No " + name + " is called " + quoted(current[name]) + ": that filter is left out.";
    });
    if (count > shown) text += " The first " + shown + " are shown.";
    return text;
  }

  /* The filters the index does not know (say, from an old link) are left out. */
  function known(current) {
    var kept = Object.assign({}, current);
    (outcome ? outcome.unknown : []).forEach(function (name) { kept[name] = ""; });
    return kept;
  }

  function done() {
    results.removeAttribute("aria-busy");
  }

  function update() {
    pending = false;
    if (!index) return;
    var current = state();
    /* An issue the index does not have (from an old link, say) is let go, as a topic
       or year the page does not list is. */
    if (current.issue && !index.issues.some(function (i) { return i.date === current.issue; })) {
      setChoice(control.issue, "");
      current.issue = "";
    }
    /* A search box that loses focus fires "change" after its "input": searching again
       would replace the results, and with them the link that focus just moved to. */
    var key = JSON.stringify(current);
    if (key === searched) {
      if (!running) done();
      return;
    }
    searched = key;
    var asked = ++asking;
    running = true;
    index.search(current.q, current).then(function (found) {
      if (asked !== asking) return null;
      outcome = found;
      toUrl(known(current));
      showCounts(found.counts, current);
      var first = Math.min(PAGE, found.papers.length);
      return showResults(0, first, current, asked, true).then(function (fresh) {
        if (!fresh) return;
        status.textContent = statusText(current);
        var count = filtersChosen(current);
        chosen.textContent = count ? "(" + count + " chosen)" : "";
        running = false;
        done();
      });
    }).catch(function (problem) {
      if (asked !== asking) return;
      running = false;
      searched = null;
      status.textContent = "Part of the search index could not be loaded (" + problem.message +
        "). Try again, or reload the page.";
      done();
    });
  }

  function schedule() {
    results.setAttribute("aria-busy", "true");
    if (pending) return;
    pending = true;
    window.setTimeout(update, 0);
  }

  /* ------------------------------------------------ keyboard */

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || target.isContentEditable;
  }

  function titleLinks() {
    return Array.prototype.slice.call(results.querySelectorAll(".search-result-title a"));
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    event.preventDefault();
    control.q.focus();
    control.q.select();
  });

  control.q.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      var first = titleLinks()[0];
      if (first) {
        event.preventDefault();
        first.focus();
      }
    } else if (event.key === "Escape" && control.q.value) {
      event.preventDefault();
      control.q.value = "";
      schedule();
    }
  });

  results.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var item = event.target.closest && event.target.closest(".search-result");
    if (!item) return;
    var links = titleLinks();
    var at = Array.prototype.indexOf.call(results.children, item);
    event.preventDefault();
    if (event.key === "ArrowDown") {
      if (at + 1 < links.length) links[at + 1].focus();
    } else if (at > 0) {
      links[at - 1].focus();
    } else {
      control.q.focus();
    }
  });

  /* ------------------------------------------------ events, then the index */

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    schedule();
  });
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  /* A reset changes the controls after its event: search once it has. */
  form.addEventListener("reset", function () {
    results.setAttribute("aria-busy", "true");
    window.setTimeout(update, 0);
  });
  window.addEventListener("popstate", function () {
    fromUrl();
    schedule();
  });
  more.addEventListener("click", function () {
    var from = shown;
    var upTo = Math.min(shown + PAGE, outcome.papers.length);
    var current = state();
    results.setAttribute("aria-busy", "true");
    showResults(from, upTo, current, asking).then(function (fresh) {
      done();
      if (!fresh) return;
      status.textContent = statusText(current);
      var next = titleLinks()[from];
      if (next) next.focus();
    }, function (problem) {
      done();
      status.textContent = "Part of the search index could not be loaded (" + problem.message +
        "). Try again, or reload the page.";
    });
  });
  var suggestions = TYPED.map(function (name) { return new Suggestions(name); });

  var FROM_DISK = "Search cannot run on a page opened straight from your disk: the " +
    "browser does not let such a page read the search index beside it. To search, serve " +
    "the site: run “digest serve” in your digest’s folder, or “python3 -m http.server” in " +
    "the built site’s folder, and open http://localhost:8000/search/ in your browser.";
  var TOO_OLD = "Search needs a newer browser (one that can read compressed files: " +
    "Chrome or Edge 80, Firefox 113, Safari 16.4 or later). Every paper is still listed " +
    "on the topic pages and in its issue.";

  var base = new URL(form.getAttribute("data-index"), window.location.href);

  function load(path, fresh) {
    return fetch(new URL(path, base), fresh ? { cache: "no-cache" } : {}).then(function (response) {
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      return response.arrayBuffer();
    }).then(core.gunzip);
  }

  fromUrl();
  /* The filters are open where there is room for them, or when some are chosen. */
  if (window.matchMedia("(min-width: 40rem)").matches || filtersChosen(state())) {
    filtersBox.open = true;
  }
  status.textContent = "Loading the search index…";
  results.setAttribute("aria-busy", "true");
  if (typeof DecompressionStream === "undefined") {
    status.textContent = TOO_OLD;
    done();
    return;
  }
  core.open(load)
    .then(function (opened) {
      index = opened;
      form.removeAttribute("aria-busy");
      /* What was chosen while the index loaded goes into the address too. */
      update();
      suggestions.forEach(function (suggestion) { suggestion.close(); });
    })
    .catch(function (problem) {
      status.textContent = window.location.protocol === "file:" ? FROM_DISK :
        "The search index could not be loaded (" + problem.message + "). " +
        "Reload the page to try again.";
      done();
    });
})();
