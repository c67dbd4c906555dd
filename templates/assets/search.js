/* digest search: reads search/index.json (its format is described in digest/search.py),
   matches every query word as the start of a word, ranks title and short-name hits
   above tags and topics, above authors and affiliations, above the summary; filters by
   topic, contribution, issue, year, tag, author and "has code" with counts that follow
   the query; keeps the state in the URL. No framework, no other host. The matching core
   (everything before "the page") also loads in Node, for the tests and benchmarks. */
(function () {
  "use strict";

  /* ---------------------------------------------------------------- matching */

  /* How much a query word weighs where it is found; a word found whole counts its
     field's weight, a word found as the start of a longer one three quarters of it, so
     a prefix in a heavier field still outranks a whole word in a lighter one. */
  var WEIGHT = { names: 8, categories: 4, people: 2, text: 1 };
  var PREFIX = 0.75;
  var INDEX_VERSION = 2;

  /* The same table as FOLDS in digest/search.py. */
  var FOLDS = {
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
    "ı": "i", "ς": "σ", "×": "x"
  };
  var FOLDED = /[ßæœøłđðþıς×]/g;
  var DASHES = /[\u2010-\u2015\u2043\u2212\ufe58\ufe63\uff0d]/g;

  /* ASCII text, nearly all of it, needs only lower case; its words are simpler to find. */
  var ASCII = /^[\x00-\x7f]*$/;

  function fold(text) {
    if (ASCII.test(text)) return text.toLowerCase();
    return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()
      .replace(FOLDED, function (c) { return FOLDS[c]; }).replace(DASHES, "-");
  }

  function wordsOf(folded) {
    return folded.match(ASCII.test(folded) ? /[a-z0-9]+/g : /[\p{L}\p{N}]+/gu) || [];
  }

  function words(text) {
    return wordsOf(fold(text));
  }

  /* The text's words, then each hyphenated compound as one word ("trainingfree"). */
  function searchWords(text) {
    var folded = fold(text);
    var list = wordsOf(folded);
    if (folded.indexOf("-") >= 0) {
      (folded.match(/[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)+/gu) || []).forEach(function (compound) {
        list.push(compound.replace(/-/g, ""));
      });
    }
    return list;
  }

  /* A field's words between spaces, so " " + word finds a word's start. */
  function haystack(text) {
    return " " + searchWords(text).join(" ") + " ";
  }

  /* A facet value's key: spellings that differ only in case, accents or punctuation
     ("Caching", "caching") are one value. */
  function valueKey(text) {
    return words(text).join(" ");
  }

  /* Values (tags, authors) numbered in the order first met, one number per key. */
  function Values() {
    this.names = [];
    this.numbers = new Map(); /* by key */
    this.spellings = new Map(); /* by name as written, to fold each spelling once */
  }

  Values.prototype.number = function (name) {
    var number = this.spellings.get(name);
    if (number !== undefined) return number;
    var key = valueKey(name);
    number = this.numbers.get(key);
    if (number === undefined) {
      number = this.names.length;
      this.numbers.set(key, number);
      this.names.push(name);
    }
    this.spellings.set(name, number);
    return number;
  };

  Values.prototype.find = function (name) {
    var number = this.numbers.get(valueKey(name));
    return number === undefined ? -1 : number;
  };

  /* The index's rows, with folded text ready for matching. */
  function prepare(index) {
    if (index.version !== INDEX_VERSION) {
      throw new Error("the search index is of version " + index.version +
        ", this page reads version " + INDEX_VERSION);
    }
    var tags = new Values();
    var authors = new Values();
    var years = [];
    var issues = index.issues.map(function (issue) {
      var year = issue[0].slice(0, 4);
      if (years.indexOf(year) < 0) years.push(year);
      return { date: issue[0], label: issue[1], year: years.indexOf(year) };
    });
    var papers = index.papers.map(function (row, order) {
      return {
        id: row[0], title: row[1], short: row[2], authors: row[3], etAl: row[4] === 1,
        affiliations: row[5], tags: row[6], topics: row[7], contribution: row[8],
        issue: row[9], code: row[10], line: row[11], order: order,
        tagNumbers: row[6].map(function (tag) { return tags.number(tag); }),
        authorNumbers: row[3].map(function (name) { return authors.number(name); }),
        hay: {
          names: haystack(row[1] + " " + row[2]),
          categories: haystack(row[6].join(" ")),
          people: haystack(row[3].concat(row[5]).join(" ")),
          text: haystack(row[11]) + row[12] + " "
        }
      };
    });
    var stop = {};
    index.stop_words.forEach(function (word) { stop[word] = true; });
    return {
      topics: index.topics.map(function (topic) {
        return {
          slug: topic[0], title: topic[1], description: topic[2],
          titleHay: haystack(topic[1]), descriptionHay: haystack(topic[2])
        };
      }),
      contributions: index.contributions.map(function (kind) {
        return { value: kind[0], label: kind[1], hay: haystack(kind[1]) };
      }),
      issues: issues, years: years, tags: tags, authors: authors, stop: stop, papers: papers
    };
  }

  /* 1 when `term` is a whole word of `hay`, PREFIX when it starts one, else 0. */
  function matchIn(hay, term) {
    var at = hay.indexOf(" " + term);
    if (at < 0) return 0;
    return hay.indexOf(" " + term + " ", at) >= 0 ? 1 : PREFIX;
  }

  /* The query's words, without stop words; `common` holds the stop words it had. */
  function queryTerms(prepared, query) {
    var terms = [];
    var common = [];
    words(query).forEach(function (word) {
      var list = prepared.stop[word] ? common : terms;
      if (list.indexOf(word) < 0) list.push(word);
    });
    return { terms: terms, common: common };
  }

  /* What each term scores in each topic's title and description and each
     contribution's label: computed once per query, not once per paper. */
  function labelScores(prepared, terms) {
    return terms.map(function (term) {
      return {
        topicTitle: prepared.topics.map(function (t) { return matchIn(t.titleHay, term); }),
        topicText: prepared.topics.map(function (t) { return matchIn(t.descriptionHay, term); }),
        contribution: prepared.contributions.map(function (c) { return matchIn(c.hay, term); })
      };
    });
  }

  /* The paper's score for the terms (every term must be found), or -1. */
  function score(paper, terms, labels) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var term = terms[i];
      var best = WEIGHT.names * matchIn(paper.hay.names, term);
      if (best < WEIGHT.names) {
        var category = matchIn(paper.hay.categories, term);
        for (var t = 0; t < paper.topics.length; t++) {
          category = Math.max(category, labels[i].topicTitle[paper.topics[t]]);
        }
        if (paper.contribution >= 0) {
          category = Math.max(category, labels[i].contribution[paper.contribution]);
        }
        best = Math.max(best, WEIGHT.categories * category);
      }
      if (best < WEIGHT.categories) {
        best = Math.max(best, WEIGHT.people * matchIn(paper.hay.people, term));
      }
      if (best < WEIGHT.people) {
        var text = matchIn(paper.hay.text, term);
        for (var d = 0; d < paper.topics.length; d++) {
          text = Math.max(text, labels[i].topicText[paper.topics[d]]);
        }
        best = Math.max(best, WEIGHT.text * text);
      }
      if (best === 0) return -1;
      total += best;
    }
    return total;
  }

  /* The facets: what each filter asks of a paper, and how it counts a paper's values. */
  var FACETS = ["topic", "contribution", "issue", "year", "tag", "author", "code"];

  function wanted(prepared, filters) {
    function index(list, key, value) {
      for (var i = 0; i < list.length; i++) if (list[i][key] === value) return i;
      return -1;
    }
    return {
      topic: filters.topic ? index(prepared.topics, "slug", filters.topic) : null,
      contribution: filters.contribution
        ? index(prepared.contributions, "value", filters.contribution) : null,
      issue: filters.issue ? index(prepared.issues, "date", filters.issue) : null,
      year: filters.year ? prepared.years.indexOf(filters.year) : null,
      tag: filters.tag ? prepared.tags.find(filters.tag) : null,
      author: filters.author ? prepared.authors.find(filters.author) : null,
      code: filters.code ? true : null
    };
  }

  function accepts(prepared, paper, facet, want) {
    switch (facet) {
      case "topic": return paper.topics.indexOf(want) >= 0;
      case "contribution": return paper.contribution === want;
      case "issue": return paper.issue === want;
      case "year": return prepared.issues[paper.issue].year === want;
      case "tag": return paper.tagNumbers.indexOf(want) >= 0;
      case "author": return paper.authorNumbers.indexOf(want) >= 0;
      default: return paper.code !== "";
    }
  }

  function emptyCounts(prepared) {
    return {
      topic: new Int32Array(prepared.topics.length),
      contribution: new Int32Array(prepared.contributions.length),
      issue: new Int32Array(prepared.issues.length),
      year: new Int32Array(prepared.years.length),
      tag: new Int32Array(prepared.tags.names.length),
      author: new Int32Array(prepared.authors.names.length),
      code: new Int32Array(1),
      any: { topic: 0, contribution: 0, issue: 0, year: 0, tag: 0, author: 0, code: 0 }
    };
  }

  function countInto(prepared, counts, paper, facet) {
    var i;
    counts.any[facet] += 1;
    switch (facet) {
      case "topic":
        for (i = 0; i < paper.topics.length; i++) counts.topic[paper.topics[i]] += 1;
        break;
      case "contribution":
        if (paper.contribution >= 0) counts.contribution[paper.contribution] += 1;
        break;
      case "issue": counts.issue[paper.issue] += 1; break;
      case "year": counts.year[prepared.issues[paper.issue].year] += 1; break;
      case "tag":
        for (i = 0; i < paper.tagNumbers.length; i++) counts.tag[paper.tagNumbers[i]] += 1;
        break;
      case "author":
        for (i = 0; i < paper.authorNumbers.length; i++) {
          counts.author[paper.authorNumbers[i]] += 1;
        }
        break;
      default: if (paper.code !== "") counts.code[0] += 1;
    }
  }

  /* Search: the papers that match the query and every filter, best first, and each
     facet's counts: how many papers each of its values would list, the other filters
     kept. filters: {topic, contribution, issue, year, tag, author: value or "",
     code: bool}. `terms` are the query words searched for, `common` the stop words
     left out; a query of stop words alone lists nothing. */
  function search(prepared, query, filters) {
    var asked = queryTerms(prepared, query);
    var terms = asked.terms;
    var counts = emptyCounts(prepared);
    var result = { papers: [], counts: counts, terms: terms, common: asked.common };
    if (!terms.length && asked.common.length) return result;
    var want = wanted(prepared, filters);
    var active = FACETS.filter(function (facet) { return want[facet] !== null; });
    var labels = labelScores(prepared, terms);
    var hits = [];
    prepared.papers.forEach(function (paper) {
      var points = terms.length ? score(paper, terms, labels) : 0;
      if (points < 0) return;
      var failed = null;
      for (var i = 0; i < active.length; i++) {
        if (!accepts(prepared, paper, active[i], want[active[i]])) {
          if (failed !== null) return; /* fails two filters: no facet counts it */
          failed = active[i];
        }
      }
      if (failed !== null) {
        countInto(prepared, counts, paper, failed);
        return;
      }
      FACETS.forEach(function (facet) { countInto(prepared, counts, paper, facet); });
      hits.push({ paper: paper, points: points });
    });
    hits.sort(function (a, b) { return b.points - a.points || a.paper.order - b.paper.order; });
    result.papers = hits.map(function (hit) { return hit.paper; });
    return result;
  }

  /* "Bowen Cui et al." when the list is incomplete or long, else "A, B and C": the
     rule of digest.wording.authors_short. */
  var MAX_LISTED_AUTHORS = 3;

  function authorsShort(authors, etAl) {
    if (!authors.length) return "";
    if (etAl || authors.length > MAX_LISTED_AUTHORS) return authors[0] + " et al.";
    if (authors.length <= 2) return authors.join(" and ");
    return authors.slice(0, -1).join(", ") + " and " + authors[authors.length - 1];
  }

  var core = {
    fold: fold, words: words, searchWords: searchWords, prepare: prepare, search: search,
    authorsShort: authorsShort
  };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = core;
    return;
  }

  /* ---------------------------------------------------------------- the page */

  var form = document.getElementById("search-form");
  if (!form) return;
  var PAGE = 100; /* results shown at first, and added by "Show more" */
  var CHOICES = 100; /* tags or authors listed in their filter, most frequent first */
  var SELECTS = ["topic", "contribution", "issue", "year", "tag", "author"];
  var control = {};
  ["q", "code"].concat(SELECTS).forEach(function (name) {
    control[name] = form.elements.namedItem(name);
  });
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var codeCount = document.getElementById("search-code-count");
  var capped = document.getElementById("search-capped");
  var filtersBox = document.getElementById("search-filters-box");
  var chosen = document.getElementById("search-chosen");
  var title = document.title;
  var prepared = null;
  var outcome = null; /* the last search's result */
  var shown = 0;
  var pending = false;
  var searched = null; /* the state the results show, as JSON */

  function link(pattern, value) {
    return form.getAttribute(pattern).replace("{}", encodeURIComponent(value));
  }

  /* ------------------------------------------------ state: the form and the URL */

  function state() {
    var current = { q: control.q.value.trim(), code: control.code.checked };
    SELECTS.forEach(function (name) { current[name] = control[name].value; });
    return current;
  }

  function fromUrl() {
    var params = new URLSearchParams(window.location.search);
    control.q.value = params.get("q") || "";
    control.code.checked = params.get("code") === "1";
    SELECTS.forEach(function (name) {
      var value = params.get(name) || "";
      if (name === "tag" || name === "author") {
        setChoice(control[name], value); /* their options come with the index */
        return;
      }
      var select = control[name];
      select.value = Array.prototype.some.call(select.options, function (o) {
        return o.value === value;
      }) ? value : "";
    });
  }

  /* Tags and authors the index does not know (say, from an old link) are let go. */
  function knownChoices() {
    [["tag", prepared.tags], ["author", prepared.authors]].forEach(function (pair) {
      var select = control[pair[0]];
      var number = select.value ? pair[1].find(select.value) : -1;
      setChoice(select, number < 0 ? "" : pair[1].names[number]);
    });
  }

  function toUrl(current) {
    var params = new URLSearchParams();
    if (current.q) params.set("q", current.q);
    SELECTS.forEach(function (name) { if (current[name]) params.set(name, current[name]); });
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
    while (select.options.length > 1) select.remove(1);
    if (value) select.add(option(value, value));
    select.value = value;
  }

  /* Topic, contribution, issue, year: fixed options, their counts updated; a value no
     paper would match is disabled, unless it is the chosen one. */
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

  /* Tags and authors: the most frequent values among the matches, then the chosen one. */
  function countChoices(select, values, counts, any) {
    var chosen = select.value;
    var chosenNumber = chosen ? values.find(chosen) : -1;
    var numbers = [];
    for (var i = 0; i < counts.length; i++) if (counts[i] > 0) numbers.push(i);
    numbers.sort(function (a, b) {
      return counts[b] - counts[a] || values.names[a].localeCompare(values.names[b]);
    });
    var cut = numbers.length > CHOICES;
    numbers = numbers.slice(0, CHOICES);
    numbers.sort(function (a, b) { return values.names[a].localeCompare(values.names[b]); });
    if (chosenNumber >= 0 && numbers.indexOf(chosenNumber) < 0) numbers.unshift(chosenNumber);
    select.options[0].textContent = labelled("Any", any);
    while (select.options.length > 1) select.remove(1);
    numbers.forEach(function (number) {
      select.add(option(values.names[number], labelled(values.names[number], counts[number])));
    });
    select.value = chosenNumber >= 0 ? values.names[chosenNumber] : "";
    return cut;
  }

  function showCounts(counts) {
    countFixed(control.topic, counts.topic, counts.any.topic);
    countFixed(control.contribution, counts.contribution, counts.any.contribution);
    countFixed(control.issue, counts.issue, counts.any.issue);
    countFixed(control.year, counts.year, counts.any.year);
    var tagsCapped = countChoices(control.tag, prepared.tags, counts.tag, counts.any.tag);
    var authorsCapped = countChoices(
      control.author, prepared.authors, counts.author, counts.any.author);
    codeCount.textContent = "(" + counts.code[0] + ")";
    var which = tagsCapped && authorsCapped ? "tags and authors" :
      tagsCapped ? "tags" : authorsCapped ? "authors" : "";
    capped.hidden = !which;
    capped.textContent = which ? "The " + which + " filters list the " + CHOICES +
      " most frequent among the matches; type a word to narrow the matches and list others."
      : "";
  }

  /* ------------------------------------------------ the results */

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  /* `text` into `parent`, each word that starts with one of `terms` in a <mark>. */
  function appendMarked(parent, text, terms) {
    if (!terms.length) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    var pattern = /[\p{L}\p{N}\p{M}×]+/gu;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var hit = words(match[0]).some(function (word) {
        return terms.some(function (term) { return word.indexOf(term) === 0; });
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

  function startsAWord(text, terms) {
    return terms.length > 0 && words(text).some(function (word) {
      return terms.some(function (term) { return word.indexOf(term) === 0; });
    });
  }

  /* The author line, and the authors it leaves out that the query or the author filter
     names: "Bowen Cui et al. (with Ana Ruiz)". */
  function authorLine(paper, terms, author) {
    var line = authorsShort(paper.authors, paper.etAl);
    var named = paper.authors.filter(function (name, at) {
      var listed = !(paper.etAl || paper.authors.length > MAX_LISTED_AUTHORS) || at === 0;
      if (listed) return false;
      return startsAWord(name, terms) || (author && valueKey(name) === valueKey(author));
    });
    return named.length ? line + " (with " + named.join(", ") + ")" : line;
  }

  function resultItem(paper, terms, current) {
    var item = element("li", "search-result");
    item.setAttribute("data-paper", paper.id);
    var heading = element("h2", "search-result-title");
    var name = element("a");
    name.href = link("data-paper-url", paper.id);
    appendMarked(name, paper.title, terms);
    heading.appendChild(name);
    item.appendChild(heading);
    var meta = element("p", "search-result-meta");
    var authors = authorLine(paper, terms, current.author);
    if (authors) {
      appendMarked(meta.appendChild(element("span", "search-result-authors")), authors, terms);
      meta.appendChild(document.createTextNode(" · "));
    }
    var issue = prepared.issues[paper.issue];
    var date = element("a", "search-result-date");
    date.href = link("data-issue-url", issue.date);
    var time = element("time", "", issue.label);
    time.setAttribute("datetime", issue.date);
    date.appendChild(time);
    meta.appendChild(date);
    item.appendChild(meta);
    if (paper.line) appendMarked(item.appendChild(element("p", "search-result-line")), paper.line, terms);
    var chips = element("ul", "search-result-chips");
    paper.topics.forEach(function (number) {
      var topic = prepared.topics[number];
      var chip = element("a", "search-chip");
      chip.href = link("data-topic-url", topic.slug);
      appendMarked(chip, topic.title, terms);
      chips.appendChild(element("li")).appendChild(chip);
    });
    if (paper.code) {
      var code = element("a", "search-chip search-code", "Code");
      code.href = paper.code;
      code.appendChild(element("span", "visually-hidden", ": " + (paper.short || paper.title)));
      chips.appendChild(element("li")).appendChild(code);
    }
    if (chips.firstChild) item.appendChild(chips);
    return item;
  }

  /* Results `from` up to `shown`, added to the list. */
  function showResults(from, current) {
    var slice = outcome.papers.slice(from, shown);
    slice.forEach(function (paper) {
      results.appendChild(resultItem(paper, outcome.terms, current));
    });
    var left = outcome.papers.length - shown;
    more.hidden = left <= 0;
    more.textContent = "Show " + Math.min(left, PAGE) + " more";
  }

  function quoted(text) {
    return "“" + text + "”";
  }

  function filtersChosen(current) {
    return SELECTS.filter(function (name) { return current[name]; }).length +
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
    if (count > shown) text += " The first " + shown + " are shown.";
    return text;
  }

  function update() {
    pending = false;
    if (!prepared) return;
    var current = state();
    /* A search box that loses focus fires "change" after its "input": searching again
       would replace the results, and with them the link that focus just moved to. */
    var key = JSON.stringify(current);
    if (key === searched) return;
    searched = key;
    toUrl(current);
    outcome = search(prepared, current.q, current);
    showCounts(outcome.counts);
    results.textContent = "";
    shown = Math.min(PAGE, outcome.papers.length);
    showResults(0, current);
    status.textContent = statusText(current);
    var count = filtersChosen(current);
    chosen.textContent = count ? "(" + count + " chosen)" : "";
  }

  function schedule() {
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
    update();
  });
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  /* A reset changes the controls after its event: search once it has. */
  form.addEventListener("reset", function () { window.setTimeout(update, 0); });
  window.addEventListener("popstate", function () {
    fromUrl();
    if (prepared) knownChoices();
    update();
  });
  more.addEventListener("click", function () {
    var from = shown;
    shown = Math.min(shown + PAGE, outcome.papers.length);
    showResults(from, state());
    status.textContent = statusText(state());
    var next = titleLinks()[from];
    if (next) next.focus();
  });

  var FROM_DISK = "Search cannot run on a page opened straight from your disk: the " +
    "browser does not let such a page read the search index beside it. To search, serve " +
    "the site: run “digest serve” in your digest’s folder, or “python3 -m http.server” in " +
    "the built site’s folder, and open http://localhost:8000/search/ in your browser.";

  fromUrl();
  /* The filters are open where there is room for them, or when some are chosen. */
  if (window.matchMedia("(min-width: 40rem)").matches || filtersChosen(state())) {
    filtersBox.open = true;
  }
  status.textContent = "Loading the search index…";
  fetch(form.getAttribute("data-index"))
    .then(function (response) {
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      return response.json();
    })
    .then(function (index) {
      prepared = prepare(index);
      knownChoices();
      form.removeAttribute("aria-busy");
      /* What was chosen while the index loaded goes into the address too. */
      update();
    })
    .catch(function (problem) {
      status.textContent = window.location.protocol === "file:" ? FROM_DISK :
        "The search index could not be loaded (" + problem.message + "). " +
        "Reload the page to try again.";
    });
})();
