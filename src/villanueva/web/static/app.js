// villanueva's page: plain JavaScript over the JSON API (/api/runs, /api/sample, /api/score, /api/guess).
"use strict";

// The page's state is here and only here; what is on screen is drawn from it (updateButtons,
// renderNames, writeAddress). The labels, limits, defaults and help of every field come from the
// API (/api/options), declared once in the library; so does the surprisal at which a character is
// coloured fully "surprising".
const state = {
  runs: [], run: 0, options: null, surprising: 5,
  defaults: {},       // each generate field's value before anyone typed: the address leaves those out
  names: [],          // the list shown: from one model and one request's settings, batch after batch
  request: null,      // the request of the list's first batch, without its seed; More repeats it
  settings: null,     // the form's settings (as the address writes them) when that list was asked for
  seed: null, picked: false, batches: 0,  // the first batch's seed, whether the page picked it, batches
  pendingSeed: null,  // a seed the page picked, read back from the address
  busy: false,        // a sample request in flight: Generate and More wait for it
  guessing: false,    // a guess in flight
  epoch: 0,           // moved on when the model changes: an answer asked for before is dropped
};
const $ = (id) => document.getElementById(id);
const count = (n) => n.toLocaleString("en"); // the page's one number format, as the API's messages write numbers

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  // "message" names a field as the page labels it; "error" as the request does.
  if (!response.ok) throw new Error(data.message || data.error || `the server answered ${response.status}`);
  return data;
}

function showMessage(id, message) {
  const box = $(id);
  box.hidden = !message;
  box.textContent = message ? message.message || String(message) : "";
}

function element(tag, properties = {}, children = []) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

// --- the runs and the options -------------------------------------------------------------------

async function start() {
  try {
    const [runs, options] = await Promise.all([api("api/runs"), api("api/options")]);
    state.runs = runs;
    state.options = options;
    state.surprising = options.surprising;
    applyOptions($("generate-form"), options.sample);
    applyOptions($("guess-form"), options.guess);
    labelFields({ ...options.guess, ...options.sample });
  } catch (error) {
    showMessage("generate-error", error);
    return;
  }
  const form = $("generate-form");
  for (const input of form.elements) if (input.name) state.defaults[input.name] = fieldValue(input);
  const select = $("run");
  state.runs.forEach((run) => select.append(element("option", { value: run.index, textContent: `${run.name} (${run.model})` })));
  $("run-choice").hidden = state.runs.length < 2;
  select.addEventListener("change", () => { chooseRun(Number(select.value)); writeAddress(); });
  $("advanced").open = window.matchMedia("(min-width: 900px)").matches;
  await readAddress();
}

// One field's JSON schema (pydantic's): its number range, or its one non-null alternative's.
function numeric(field) {
  const kind = field.anyOf ? field.anyOf.find((alternative) => alternative.type !== "null") : field;
  return kind || {};
}

function applyOptions(form, fields) {
  for (const [name, field] of Object.entries(fields)) {
    const input = form.elements[name];
    if (!input || input.tagName === "SELECT") continue;
    const range = numeric(field.type === "array" ? field.items : field);
    if (input.type === "number") {
      const step = Number(input.step) || 1;
      if (range.minimum !== undefined) input.min = range.minimum;
      if (range.exclusiveMinimum !== undefined) input.min = range.exclusiveMinimum + step;
      if (range.maximum !== undefined) input.max = range.maximum;
      if (range.exclusiveMaximum !== undefined) input.max = range.exclusiveMaximum - step;
    }
    if (range.maxLength !== undefined) input.maxLength = range.maxLength;
    if (input.type === "checkbox") input.checked = field.default === true;
    else if (field.default !== null && field.default !== undefined && !Array.isArray(field.default)) input.value = field.default;
    if (field.description) input.title = field.description;
  }
}

// Each field's label is its "title" in /api/options: the words the API's messages use for it.
function labelFields(fields) {
  document.querySelectorAll(".label-text").forEach((node) => {
    const field = fields[node.dataset.field];
    node.textContent = (field && field.title) || node.dataset.field;
  });
}

// A new model: nothing on screen from the old one stays (names, note, errors, explanation).
function chooseRun(index) {
  state.epoch += 1;
  state.run = index;
  $("run").value = String(index);
  clearNames();
  showMessage("guess-error", null);
  $("guess-result").hidden = true;
  const run = state.runs[index];
  const labels = run.labels;
  document.querySelectorAll(".needs-labels").forEach((node) => { node.hidden = !labels; });
  document.querySelectorAll(".needs-groups").forEach((node) => { node.hidden = !(labels && Object.keys(labels.groups).length); });
  document.querySelectorAll(".needs-guidance").forEach((node) => { node.hidden = !run.style_strength; });
  const label = $("label");
  label.replaceChildren(element("option", { value: "", textContent: "any (as often as in the data)" }));
  const by = $("by");
  by.replaceChildren();
  if (labels) {
    const groups = Object.keys(labels.groups);
    if (groups.length) {
      label.append(element("optgroup", { label: "Communities" }, groups.map((g) => element("option", { value: g, textContent: g }))));
      by.append(element("option", { value: "", textContent: labels.kind }), element("option", { value: "community", textContent: "community" }));
    }
    label.append(element("optgroup", { label: labels.kind[0].toUpperCase() + labels.kind.slice(1) + "s" },
      labels.names.map((name) => element("option", { value: name, textContent: name }))));
  }
  describeRun(run);
}

function describeRun(run) {
  const fact = (term, value) => [element("dt", { textContent: term }), element("dd", { textContent: value })];
  const losses = run.losses ? `train ${run.losses.train.toFixed(3)} · validation ${run.losses.val.toFixed(3)} · test ${run.losses.test.toFixed(3)} nats` : "not finished";
  // The changes as words, not as the command line's flags: "--hidden 64 --no-batchnorm" -> "hidden 64, no batchnorm".
  const changed = run.changed
    ? run.changed.split(/\s*--/).filter(Boolean).map((part) => part.replace(/^([a-z-]+)/, (flag) => flag.replaceAll("-", " "))).join(", ")
    : "nothing";
  const rows = [
    ...fact("model", `${run.model} (${run.parameters ? count(run.parameters) : "?"} parameters)`),
    ...fact("settings", Object.entries(run.model_config).map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`).join(", ")),
    ...fact("changed from the defaults", changed),
    ...fact("learned from", `${count(run.names)} names (${run.data})`),
    ...fact("loss per character", losses),
  ];
  if (run.marginal) rows.push(...fact(`without being told the ${run.labels.kind}`, `validation ${run.marginal.val.toFixed(3)} · test ${run.marginal.test.toFixed(3)} nats`));
  if (run.steps) rows.push(...fact("training", `${count(run.steps)} steps in ${count(Math.round(run.seconds))} s`));
  $("facts").replaceChildren(...rows);
  drawCurve(run.curve);
  // Each plot opens full size: a link to its PNG.
  $("plots").replaceChildren(...run.plots.map((name) => {
    const src = `api/runs/${run.index}/plots/${encodeURIComponent(name)}`;
    const title = name.replace(".png", "").replaceAll("_", " ");
    return element("figure", {}, [
      element("a", { href: src, target: "_blank", title: `${title}: open full size` }, [
        element("img", { src, alt: `diagnostic plot: ${title}`, loading: "lazy" }),
      ]),
      element("figcaption", {}, [title, " ", element("a", { href: src, target: "_blank", className: "full", textContent: "full size" })]),
    ]);
  }));
}

// Drawn at the width it is shown, so that its labels keep their size on a phone.
function drawCurve(curve) {
  const figure = $("curve-figure");
  figure.hidden = curve.length < 2;
  if (figure.hidden) return;
  const svg = $("curve");
  const width = Math.round(Math.max(280, Math.min(700, figure.clientWidth || 600)));
  const [height, left, bottom, top, right] = [240, 48, 28, 10, 12];
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const steps = curve.map((p) => p.step);
  const values = curve.flatMap((p) => [p.train, p.val]);
  const [x0, x1, y0, y1] = [0, Math.max(...steps), Math.min(...values) - 0.02, Math.max(...values) + 0.02];
  const x = (step) => left + (step - x0) / (x1 - x0) * (width - left - right);
  const y = (value) => top + (y1 - value) / (y1 - y0) * (height - top - bottom);
  const line = (key) => curve.map((p, i) => `${i ? "L" : "M"}${x(p.step).toFixed(1)},${y(p[key]).toFixed(1)}`).join("");
  const ticks = [y0 + 0.02, (y0 + y1) / 2, y1 - 0.02];
  svg.innerHTML = `
    <line class="axis" x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}"/>
    <line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}"/>
    ${ticks.map((t) => `<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${t.toFixed(2)}</text>`).join("")}
    <text x="${width - right}" y="${height - 8}" text-anchor="end">${count(x1)} steps</text>
    <text x="${left}" y="${height - 8}">0</text>
    <path class="train" d="${line("train")}"/><path class="val" d="${line("val")}"/>
    <text x="${width - right}" y="${top + 14}" text-anchor="end" style="fill:var(--train)">train</text>
    <text x="${width - right}" y="${top + 30}" text-anchor="end" style="fill:var(--val)">validation</text>`;
}

// --- the address: the settings, and the seed of the list shown, so that a link gives that list ------

function fieldValue(input) {
  return input.type === "checkbox" ? (input.checked ? "1" : "") : input.value.trim();
}

// The generate form's settings that differ from the defaults, as the address writes them.
function formSettings() {
  const settings = new URLSearchParams();
  if (state.run) settings.set("run", state.run);
  for (const input of $("generate-form").elements) {
    if (!input.name || input.name === "seed") continue;
    const value = fieldValue(input);
    if (value !== state.defaults[input.name]) settings.set(input.name, value);
  }
  return settings;
}

function writeAddress() {
  const address = formSettings();
  if (state.request && address.toString() === state.settings) {
    address.set("seed", state.seed);
    if (state.picked) address.set("picked", "1"); // the page chose it: the field stays "random"
    if (state.batches > 1) address.set("more", state.batches - 1);
  }
  const shown = $("guess-result").hidden ? "" : $("guess-name").value.trim();
  if (shown) address.set("guess", shown);
  if (shown && $("by").value) address.set("by", $("by").value);
  const query = address.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

// The settings of the address (a link, or a reload), and the list they gave: generated again.
async function readAddress() {
  const address = new URLSearchParams(location.search);
  const run = Number(address.get("run") || 0);
  chooseRun(Number.isInteger(run) && run >= 0 && run < state.runs.length ? run : 0);
  const form = $("generate-form");
  let advanced = false;
  for (const [name, value] of address) {
    const input = form.elements[name];
    if (!input || !input.name || name === "seed") continue;
    if (input.type === "checkbox") input.checked = value === "1";
    else input.value = value;
    advanced ||= Boolean(input.closest("details"));
  }
  if (address.has("seed")) {
    if (address.get("picked") === "1") state.pendingSeed = Number(address.get("seed"));
    else { form.elements.seed.value = address.get("seed"); advanced = true; }
  }
  if (advanced) $("advanced").open = true;
  updateButtons();
  if (address.has("guess")) {
    $("guess-name").value = address.get("guess");
    if (address.has("by")) $("by").value = address.get("by");
    guess();
  }
  if (address.has("seed") && form.reportValidity()) {
    await generate(false);
    for (let more = Math.min(Number(address.get("more")) || 0, 50); more > 0 && state.request; more -= 1) await generate(true);
  }
}

// --- generate ---------------------------------------------------------------------------------

// The request from the form: every field of the API's sample request that has an input of the same
// name, so that a new option needs an input and nothing here.
function sampleRequest(form) {
  const request = { run: state.run };
  for (const [name, field] of Object.entries(state.options.sample)) {
    const input = form.elements[name];
    if (!input || name === "seed") continue; // the seed is generate()'s: More moves it on
    const text = input.value.trim();
    const kind = numeric(field).type;
    if (input.type === "checkbox") request[name] = input.checked;
    else if (text === "") continue;
    else if (field.type === "array") request[name] = [text];
    else request[name] = kind === "integer" || kind === "number" ? Number(text) : text;
  }
  if (request.top_p >= 1) delete request.top_p; // all of the probability: no nucleus at all
  return request;
}

// What can be pressed follows from the state: nothing sends a second request while one is in
// flight, and More only repeats the settings on screen.
function updateButtons() {
  const current = state.request !== null && formSettings().toString() === state.settings;
  $("generate-button").disabled = state.busy;
  $("more").disabled = state.busy || !current;
  $("copy").disabled = $("download").disabled = state.busy || !state.names.length;
  $("generate-form").setAttribute("aria-busy", String(state.busy));
  $("names").classList.toggle("stale", state.names.length > 0 && !current);
  $("guess-button").disabled = state.guessing;
}

function clearNames() {
  Object.assign(state, { names: [], request: null, settings: null, batches: 0 });
  renderNames();
  showMessage("generate-error", null);
  showMessage("generate-warning", null);
  $("generate-note").textContent = "";
  updateButtons();
}

async function generate(more) {
  if (state.busy || (more && !state.request)) return;
  const form = $("generate-form");
  let request;
  if (more) {
    request = { ...state.request, seed: state.seed + state.batches }; // the next seed: new names
    if (request.new_only || request.min_distance) {
      request.exclude = state.names.map((n) => n.name).slice(-1000); // new ones, not those shown
    }
  } else {
    clearNames();
    const typed = number(form.elements.seed.value);
    state.picked = typed === null;
    state.seed = typed ?? state.pendingSeed ?? Math.floor(Math.random() * 2 ** 31); // a link can give it again
    state.pendingSeed = null;
    request = { ...sampleRequest(form), seed: state.seed };
  }
  const epoch = state.epoch;
  const settings = formSettings().toString();
  state.busy = true;
  updateButtons();
  showMessage("generate-error", null);
  $("generate-note").textContent = more ? "generating more…" : "generating…";
  try {
    const answer = await api("api/sample", request);
    if (epoch !== state.epoch) return; // the model changed meanwhile: this list is not asked for any more
    if (!more) {
      const { seed, ...repeated } = request;
      Object.assign(state, { request: repeated, settings, batches: 0 });
    }
    state.batches += 1;
    state.names.push(...answer.names);
    renderNames();
    const asked = more ? ` (${count(answer.names.length)} more, from ${count(answer.candidates)} drawn)` : ` (from ${count(answer.candidates)} drawn)`;
    $("generate-note").textContent = `${count(state.names.length)} names${asked}`;
    // A hard constraint that came up short is said plainly, not in the note's small print.
    showMessage("generate-warning", answer.complete ? null : answer.shortfall_message || answer.shortfall);
    writeAddress();
  } catch (error) {
    if (epoch !== state.epoch) return;
    showMessage("generate-error", error);
    $("generate-note").textContent = "";
  } finally {
    state.busy = false;
    updateButtons();
  }
}

function number(text) {
  return text.trim() === "" ? null : Number(text);
}

// A list of names: the name itself, and its details apart (not selected with it, read after a pause).
function renderNames() {
  $("names").replaceChildren(...state.names.map((n) => element("li", {}, [
    element("span", { className: "name", textContent: n.name }),
    element("span", { className: "details" }, [
      ", ",
      element("span", { className: "score", textContent: n.loss.toFixed(2), title: "loss per character (lower: more typical)" }),
      // A real name is in the data, maybe from anywhere in it: not paired with the style asked for.
      ...(n.known
        ? [", ", element("span", { className: "badge", textContent: "real name", title: "in the list the model learned from" })]
        : n.label ? [", ", element("span", { className: "style", textContent: n.label, title: `asked for in the style of ${n.label}` })] : []),
    ]),
  ])));
  $("names-help").hidden = !state.names.length;
}

function csvCell(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function download() {
  const rows = [["name", "loss", "label", "known"], ...state.names.map((n) => [n.name, n.loss.toFixed(4), n.label, n.known])];
  const blob = new Blob([rows.map((row) => row.map(csvCell).join(",")).join("\n") + "\n"], { type: "text/csv" });
  const link = element("a", { href: URL.createObjectURL(blob), download: "names.csv" });
  document.body.append(link);
  link.click();
  link.remove();
}

// The names only, one a line: by the Clipboard API, else by a hidden text area the browser copies.
async function copyNames() {
  const text = state.names.map((n) => n.name).join("\n") + "\n";
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch {
    const area = element("textarea", { value: text, readOnly: true });
    area.style.cssText = "position:fixed;top:0;left:0;opacity:0";
    document.body.append(area);
    area.select();
    try { copied = document.execCommand("copy"); } catch { copied = false; }
    area.remove();
    $("copy").focus();
  }
  if (copied) $("generate-note").textContent = `copied ${count(state.names.length)} names`;
  else showMessage("generate-error", new Error("the browser did not allow copying; Download CSV has the names too"));
}

// --- guess and explain ------------------------------------------------------------------------

async function guess(event) {
  if (event) event.preventDefault();
  if (state.guessing) return;
  const name = $("guess-name").value;
  const run = state.runs[state.run];
  const epoch = state.epoch;
  state.guessing = true;
  updateButtons();
  showMessage("guess-error", null);
  try {
    const [scored, guessed] = await Promise.all([
      api("api/score", { run: state.run, names: [name], explain: true }),
      run.labels ? api("api/guess", { run: state.run, names: [name], by: $("by").value || null }) : null,
    ]);
    if (epoch !== state.epoch) return;
    renderExplained(scored.names[0], guessed ? guessed.names[0].real : []);
    if (guessed) renderChart(guessed.names[0]);
    $("guess-result").hidden = false;
  } catch (error) {
    if (epoch !== state.epoch) return;
    showMessage("guess-error", error);
    $("guess-result").hidden = true;
  } finally {
    state.guessing = false;
    updateButtons();
    writeAddress();
  }
}

function renderExplained(scored, realLabels) {
  // A real name's own labels (its province), when the run has labels; else only that it is real.
  const real = realLabels.length ? ` — a real name of ${realLabels.join(" and ")}` : " — a real name of the data";
  $("guess-loss").textContent = `“${scored.name}”: ${scored.loss.toFixed(3)} nats per character${scored.known ? real : ""}`;
  $("char-info").textContent = "Tap, hover or focus a character for its surprisal.";
  // A box per character, grouped by word, so that a line breaks between words, not inside one.
  const characters = [...scored.name, null]; // null: the end of the name
  const words = [[]];
  characters.forEach((c, i) => {
    const surprisal = scored.surprisals[i];
    const what = c === null ? "the end of the name" : c === " " ? "a space" : `'${c}'`;
    const chance = Math.exp(-surprisal) * 100;
    const node = element("span", {
      className: `char${c === " " ? " space" : ""}${c === null ? " end" : ""}`,
      textContent: c === null ? "·" : c === " " ? "\u00a0" : c, tabIndex: 0,
    });
    node.dataset.info = `${what}: surprisal ${surprisal.toFixed(2)} nats (the model gave it ${chance < 1 ? chance.toFixed(1) : Math.round(chance)}%)`;
    node.setAttribute("aria-label", node.dataset.info);
    node.style.setProperty("--s", Math.min(1, surprisal / state.surprising).toFixed(3));
    words.at(-1).push(node);
    if (c === " ") words.push([]);
  });
  $("explained").replaceChildren(...words.filter((word) => word.length).map((word) => element("span", { className: "word" }, word)));
}

function showCharacter(event) {
  const node = event.target.closest(".char");
  if (node) $("char-info").textContent = node.dataset.info;
}

function renderChart(guessed) {
  const best = guessed.labels[0].probability;
  $("chart-title").textContent = `Where “${guessed.name}” sounds from`;
  $("chart").replaceChildren(...guessed.labels.map(({ label, probability }) => element("div", { className: "row" }, [
    element("span", { textContent: label }),
    Object.assign(element("div", { className: "bar", role: "listitem", ariaLabel: `${label} ${(probability * 100).toFixed(1)}%` }), { style: `width:${(probability / best) * 100}%` }),
    element("span", { className: "value", textContent: `${(probability * 100).toFixed(1)}%` }),
  ])));
}

// --- wiring -----------------------------------------------------------------------------------

const generateForm = $("generate-form");
generateForm.addEventListener("submit", (event) => { event.preventDefault(); generate(false); });
// Changed settings: More would not repeat them, so it waits for Generate; the address keeps them.
const changed = () => { if (state.options) { updateButtons(); writeAddress(); } };
generateForm.addEventListener("input", changed);
generateForm.addEventListener("change", changed);
// A submit the browser refused (a value out of range): no earlier error or list stands as its answer.
generateForm.addEventListener("invalid", (event) => {
  if (state.busy) return;
  clearNames();
  const label = event.target.closest("label")?.querySelector(".label-text")?.textContent || event.target.name;
  if (event.target.closest("details")) $("advanced").open = true;
  $("generate-note").textContent = `Not generated: “${label}”: ${event.target.validationMessage}`;
}, true);
$("more").addEventListener("click", () => generate(true));
$("copy").addEventListener("click", copyNames);
$("download").addEventListener("click", download);
$("guess-form").addEventListener("submit", guess);
$("guess-form").addEventListener("invalid", () => { showMessage("guess-error", null); $("guess-result").hidden = true; }, true);
for (const kind of ["focusin", "mouseover", "click"]) $("explained").addEventListener(kind, showCharacter);
let resizing = null;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => { if (state.runs.length) drawCurve(state.runs[state.run].curve); }, 150);
});
start();
