// villanueva's page: plain JavaScript over the JSON API (/api/runs, /api/sample, /api/score, /api/guess).
"use strict";

// The limits, defaults and help of every field come from the API (/api/options), declared once in
// the library; so does the surprisal at which a character is coloured fully "surprising".
const state = { runs: [], run: 0, names: [], lastRequest: null, seed: null, options: null, surprising: 5 };
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

function showError(id, error) {
  const box = $(id);
  box.hidden = !error;
  box.textContent = error ? error.message || String(error) : "";
}

function element(tag, properties = {}, children = []) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

// --- the runs ---------------------------------------------------------------------------------

async function start() {
  try {
    const [runs, options] = await Promise.all([api("api/runs"), api("api/options")]);
    state.runs = runs;
    state.options = options;
    state.surprising = options.surprising;
    applyOptions($("generate-form"), options.sample);
    applyOptions($("guess-form"), options.guess);
  } catch (error) {
    showError("generate-error", error);
    return;
  }
  const select = $("run");
  state.runs.forEach((run) => select.append(element("option", { value: run.index, textContent: `${run.name} (${run.model})` })));
  $("run-choice").hidden = state.runs.length < 2;
  select.addEventListener("change", () => chooseRun(Number(select.value)));
  chooseRun(0);
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

function chooseRun(index) {
  state.run = index;
  const run = state.runs[index];
  const labels = run.labels;
  document.querySelectorAll(".needs-labels").forEach((node) => { node.hidden = !labels; });
  document.querySelectorAll(".needs-groups").forEach((node) => { node.hidden = !(labels && Object.keys(labels.groups).length); });
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
  const losses = run.losses ? `train ${run.losses.train.toFixed(4)} · val ${run.losses.val.toFixed(4)} · test ${run.losses.test.toFixed(4)}` : "not finished";
  const rows = [
    ...fact("model", `${run.model} (${run.parameters ? run.parameters.toLocaleString("en") : "?"} parameters)`),
    ...fact("settings", Object.entries(run.model_config).map(([k, v]) => `${k} ${v}`).join(", ")),
    ...fact("changed from the defaults", run.changed || "nothing"),
    ...fact("learned from", `${run.names.toLocaleString("en")} names (${run.data})`),
    ...fact("loss per character", losses),
  ];
  if (run.marginal) rows.push(...fact(`${run.labels.kind} summed out`, `val ${run.marginal.val.toFixed(4)} · test ${run.marginal.test.toFixed(4)}`));
  if (run.steps) rows.push(...fact("training", `${run.steps.toLocaleString("en")} steps in ${Math.round(run.seconds)} s`));
  $("facts").replaceChildren(...rows);
  drawCurve(run.curve);
  $("plots").replaceChildren(...run.plots.map((name) => element("figure", {}, [
    element("img", { src: `api/runs/${run.index}/plots/${encodeURIComponent(name)}`, alt: `diagnostic plot ${name}`, loading: "lazy" }),
    element("figcaption", { textContent: name.replace(".png", "").replaceAll("_", " ") }),
  ])));
}

function drawCurve(curve) {
  const figure = $("curve-figure");
  figure.hidden = curve.length < 2;
  if (figure.hidden) return;
  const svg = $("curve");
  const [width, height, left, bottom, top, right] = [600, 260, 48, 28, 10, 12];
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
    <text x="${width - right}" y="${height - 8}" text-anchor="end">${x1.toLocaleString("en")} steps</text>
    <text x="${left}" y="${height - 8}">0</text>
    <path class="train" d="${line("train")}"/><path class="val" d="${line("val")}"/>
    <text x="${width - right}" y="${top + 14}" text-anchor="end" style="fill:var(--train)">train</text>
    <text x="${width - right}" y="${top + 30}" text-anchor="end" style="fill:var(--val)">validation</text>`;
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

async function generate(more) {
  const form = $("generate-form");
  const request = more ? { ...state.lastRequest } : sampleRequest(form);
  if (!more) {
    state.seed = number(form.elements.seed.value);
    state.names = [];
  } else if (request.new_only || request.min_distance) {
    request.exclude = state.names.map((n) => n.name).slice(-1000); // new ones, not those shown
  }
  // A given seed gives the same names every time; "More" moves on to the next seed.
  if (state.seed !== null) request.seed = more ? ++state.seed : state.seed;
  showError("generate-error", null);
  $("generate-note").textContent = "generating…";
  $("generate-button").disabled = true;
  try {
    const answer = await api("api/sample", request);
    state.lastRequest = request;
    state.names.push(...answer.names);
    renderNames();
    $("generate-note").textContent = answer.complete
      ? `${state.names.length} names (${answer.candidates.toLocaleString("en")} drawn for the last ${answer.names.length})`
      : answer.shortfall;
  } catch (error) {
    showError("generate-error", error);
    $("generate-note").textContent = "";
  } finally {
    $("generate-button").disabled = false;
    ["more", "copy", "download"].forEach((id) => { $(id).disabled = !state.names.length; });
  }
}

function number(text) {
  return text.trim() === "" ? null : Number(text);
}

function renderNames() {
  $("names").replaceChildren(...state.names.map((n) => element("li", {}, [
    element("span", { className: "name", textContent: n.name }),
    ...(n.known ? [element("span", { className: "badge", textContent: "real", title: "a name of the data the model learned from" })] : []),
    element("span", { className: "meta", textContent: `${n.loss.toFixed(2)}${n.label ? " · " + n.label : ""}`, title: "loss per character (lower: more typical)" }),
  ])));
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

async function copyAll() {
  try {
    await navigator.clipboard.writeText(state.names.map((n) => n.name).join("\n") + "\n");
    $("generate-note").textContent = `copied ${state.names.length} names`;
  } catch (error) {
    showError("generate-error", new Error("the browser did not allow copying; select the list instead"));
  }
}

// --- guess and explain ------------------------------------------------------------------------

async function guess(event) {
  event.preventDefault();
  const name = $("guess-name").value;
  const run = state.runs[state.run];
  showError("guess-error", null);
  try {
    const [scored, guessed] = await Promise.all([
      api("api/score", { run: state.run, names: [name], explain: true }),
      run.labels ? api("api/guess", { run: state.run, names: [name], by: $("by").value || null }) : null,
    ]);
    renderExplained(scored.names[0]);
    if (guessed) renderChart(guessed.names[0]);
    $("guess-result").hidden = false;
  } catch (error) {
    showError("guess-error", error);
    $("guess-result").hidden = true;
  }
}

function renderExplained(scored) {
  $("guess-loss").textContent = `“${scored.name}”: ${scored.loss.toFixed(3)} nats per character${scored.known ? " — a real name of the data" : ""}`;
  const characters = [...scored.name, "end"];
  $("explained").replaceChildren(...characters.map((c, i) => {
    const surprisal = scored.surprisals[i];
    const shown = i === characters.length - 1 ? "·" : c === " " ? "\u00a0" : c;
    const what = i === characters.length - 1 ? "the end of the name" : `'${c}'`;
    const node = element("span", {
      className: `char${c === " " ? " space" : ""}${i === characters.length - 1 ? " end" : ""}`,
      textContent: shown, tabIndex: 0, title: `${what}: ${surprisal.toFixed(2)} nats`,
    });
    node.setAttribute("aria-label", `${what}, surprisal ${surprisal.toFixed(2)}`);
    node.style.setProperty("--s", Math.min(1, surprisal / state.surprising).toFixed(3));
    return node;
  }));
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

$("generate-form").addEventListener("submit", (event) => { event.preventDefault(); generate(false); });
$("more").addEventListener("click", () => generate(true));
$("copy").addEventListener("click", copyAll);
$("download").addEventListener("click", download);
$("guess-form").addEventListener("submit", guess);
start();
