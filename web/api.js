// The API reference page: fetches /openapi.json and shows every operation (method, path,
// summary, role, parameters, body schema, answers) in plain DOM. Text only goes in through
// textContent: the document's strings are never parsed as HTML.

const errorBox = /** @type {HTMLElement} */ (document.getElementById('error'));
const statusLine = /** @type {HTMLElement} */ (document.getElementById('status'));

/** HTTP methods in the order the page lists them on one path. */
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options'];

/**
 * Creates an element with a class and children (strings become text nodes).
 * @param {string} tag
 * @param {string} [className]
 * @param {...(Node | string | null | undefined)} children
 */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}

/**
 * Text where `backticked` spans become <code>, as the document's descriptions write code.
 * @param {string} text
 */
function prose(text) {
  const out = document.createDocumentFragment();
  text.split(/(`[^`]*`)/).forEach((part) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1)
      out.append(el('code', undefined, part.slice(1, -1)));
    else if (part) out.append(part);
  });
  return out;
}

/**
 * Paragraphs of a description (blank lines separate them).
 * @param {string | undefined} text
 */
function paragraphs(text) {
  const box = el('div', 'description');
  for (const p of (text ?? '').split(/\n\n+/))
    if (p.trim()) box.append(el('p', undefined, prose(p)));
  return box;
}

/** @param {string} name */
function anchorOf(name) {
  return `group-${name.replace(/[^\w-]/g, '-')}`;
}

/**
 * The schema a `$ref` points at (document-local references only).
 * @param {any} doc
 * @param {any} schema
 */
function resolve(doc, schema) {
  const ref = schema?.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema ?? {};
  return (
    ref
      .slice(2)
      .split('/')
      .reduce((node, key) => (node ? node[key] : undefined), doc) ?? {}
  );
}

/**
 * One line on a schema's type and limits, e.g. `integer, 1 … 100`.
 * @param {any} doc
 * @param {any} schema
 */
function typeText(doc, schema) {
  const name = schema?.$ref ? String(schema.$ref).split('/').pop() : undefined;
  const s = resolve(doc, schema);
  const parts = [];
  if (name) parts.push(name);
  else if (s.type === 'array') {
    const items = s.items ? typeText(doc, s.items) : 'any';
    parts.push(`list of ${items}`);
  } else if (s.type) parts.push(String(s.type));
  else if (s.const !== undefined) parts.push(JSON.stringify(s.const));
  else if (!s.enum) parts.push('any');
  if (s.enum) parts.push(`one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (s.minimum !== undefined || s.maximum !== undefined)
    parts.push(`${s.minimum ?? '−∞'} … ${s.maximum ?? '∞'}`);
  if (s.minLength) parts.push('not empty');
  if (s.pattern) parts.push(`matching /${s.pattern}/`);
  return parts.join(', ');
}

/**
 * A table of an object schema's properties (nested classes shown below theirs).
 * @param {any} doc
 * @param {any} schema
 * @param {Set<string>} [seen] component names already shown on this path (no endless nesting)
 */
function schemaTable(doc, schema, seen = new Set()) {
  const s = resolve(doc, schema);
  const properties = Object.entries(s.properties ?? {});
  if (properties.length === 0) return el('p', 'schema-type', typeText(doc, schema));
  const required = new Set(s.required ?? []);
  const table = el('table', 'schema');
  table.append(
    el(
      'thead',
      undefined,
      el(
        'tr',
        undefined,
        el('th', undefined, 'key'),
        el('th', undefined, 'type'),
        el('th', undefined, 'default'),
      ),
    ),
  );
  const body = el('tbody');
  for (const [key, property] of properties) {
    const name = el('td', undefined, el('code', undefined, key));
    if (required.has(key)) name.append(el('span', 'required', 'required'));
    const type = el('td', undefined, typeText(doc, property));
    const nested = property.items?.$ref ?? property.$ref;
    const ref = typeof nested === 'string' ? nested.split('/').pop() : undefined;
    if (ref && !seen.has(ref))
      type.append(schemaTable(doc, { $ref: nested }, new Set([...seen, ref])));
    const fallback = property.default === undefined ? '' : JSON.stringify(property.default);
    body.append(
      el('tr', undefined, name, type, el('td', undefined, el('code', undefined, fallback))),
    );
  }
  table.append(body);
  if (s.additionalProperties === false) {
    return el('div', undefined, table, el('p', 'note', 'Other keys are refused.'));
  }
  return table;
}

/**
 * The parameters of an operation as a table.
 * @param {any} doc
 * @param {any[]} parameters
 */
function parameterTable(doc, parameters) {
  const table = el('table', 'schema');
  table.append(
    el(
      'thead',
      undefined,
      el(
        'tr',
        undefined,
        el('th', undefined, 'name'),
        el('th', undefined, 'in'),
        el('th', undefined, 'type'),
        el('th', undefined, 'default'),
      ),
    ),
  );
  const body = el('tbody');
  for (const p of parameters) {
    const name = el('td', undefined, el('code', undefined, p.name));
    if (p.required) name.append(el('span', 'required', 'required'));
    if (p.description) name.append(el('div', 'note', p.description));
    const fallback = p.schema?.default === undefined ? '' : JSON.stringify(p.schema.default);
    body.append(
      el(
        'tr',
        undefined,
        name,
        el('td', undefined, p.in),
        el('td', undefined, typeText(doc, p.schema)),
        el('td', undefined, el('code', undefined, fallback)),
      ),
    );
  }
  table.append(body);
  return table;
}

/**
 * One operation, folded: its line (method, path, summary, role) opens its details.
 * @param {any} doc
 * @param {string} path
 * @param {string} method
 * @param {any} op
 */
function operationView(doc, path, method, op) {
  const role = op['x-liveview-role'] ?? 'unknown';
  const websocket = Boolean(op['x-liveview-websocket']);
  const line = el(
    'summary',
    'operation-line',
    el('span', `method method-${method}`, websocket ? 'WS' : method.toUpperCase()),
    el('code', 'path', path),
    el('span', 'operation-summary', op.summary ?? ''),
    el('span', `role role-${role}`, role),
  );
  const details = el('details', 'operation', line);
  details.id = op.operationId ?? `${method}-${path}`;
  if (op['x-liveview-undocumented']) details.classList.add('undocumented');
  details.append(paragraphs(op.description));
  if (op.parameters?.length) {
    details.append(el('h4', undefined, 'Parameters'), parameterTable(doc, op.parameters));
  }
  if (op.requestBody) {
    details.append(
      el('h4', undefined, op.requestBody.required ? 'Body (required)' : 'Body (optional)'),
    );
    if (op.requestBody.description)
      details.append(el('p', undefined, prose(op.requestBody.description)));
    for (const [type, media] of Object.entries(op.requestBody.content ?? {})) {
      details.append(
        el('p', 'media-type', el('code', undefined, type)),
        schemaTable(doc, media.schema),
      );
    }
  }
  details.append(el('h4', undefined, 'Answers'));
  const answers = el('dl', 'answers');
  for (const [status, r] of Object.entries(op.responses ?? {})) {
    const answer = resolve(doc, r);
    const types = Object.keys(answer.content ?? {});
    answers.append(
      el('dt', undefined, status),
      el(
        'dd',
        undefined,
        prose(answer.description ?? ''),
        types.length ? el('span', 'note', ` (${types.join(', ')})`) : null,
      ),
    );
  }
  details.append(answers);
  return details;
}

/**
 * The whole page from the document.
 * @param {any} doc
 */
function render(doc) {
  document.title = `liveview API ${doc.info?.version ?? ''} · reference`;
  const intro = /** @type {HTMLElement} */ (document.getElementById('intro'));
  intro.append(
    el('p', 'note', `OpenAPI ${doc.openapi}, liveview ${doc.info?.version ?? ''}`),
    paragraphs(doc.info?.description),
  );
  /** @type {Map<string, HTMLElement>} */
  const groups = new Map();
  const toc = /** @type {HTMLElement} */ (document.getElementById('toc'));
  const list = /** @type {HTMLElement} */ (document.getElementById('operations'));
  const group = (/** @type {string} */ name) => {
    let section = groups.get(name);
    if (!section) {
      const tag = (doc.tags ?? []).find((t) => t.name === name);
      section = el('section', 'group', el('h2', undefined, name));
      section.id = anchorOf(name);
      if (tag?.description) section.append(el('p', undefined, prose(tag.description)));
      groups.set(name, section);
      const link = el('a', undefined, name);
      link.setAttribute('href', `#${section.id}`);
      toc.append(link);
    }
    return section;
  };
  for (const tag of doc.tags ?? []) group(tag.name);
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = ops[method];
      if (op) group(op.tags?.[0] ?? 'other').append(operationView(doc, path, method, op));
    }
  }
  for (const section of groups.values())
    if (section.querySelector('.operation')) list.append(section);
  const params = Object.entries(doc['x-liveview-protocol-params'] ?? {});
  if (params.length > 0) {
    const box = /** @type {HTMLElement} */ (document.getElementById('protocol-params-list'));
    for (const [protocol, schema] of params) {
      box.append(el('h3', undefined, protocol), schemaTable(doc, schema));
    }
    /** @type {HTMLElement} */ (document.getElementById('protocol-params')).hidden = false;
  }
}

async function load() {
  let response;
  try {
    response = await fetch('/openapi.json');
  } catch (err) {
    throw new Error(
      `cannot reach the server: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
  if (response.status === 401) {
    location.assign(`/login.html?next=${encodeURIComponent(location.pathname)}`);
    return;
  }
  const doc = await response.json();
  if (!response.ok) throw new Error(doc?.message ?? `${response.status} ${response.statusText}`);
  render(doc);
  statusLine.hidden = true;
  // A link to one operation (api.html#startLiveView) opens it.
  const target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  if (target instanceof HTMLDetailsElement) {
    target.open = true;
    target.scrollIntoView();
  }
}

load().catch((err) => {
  statusLine.hidden = true;
  errorBox.textContent = `could not load the API description: ${err instanceof Error ? err.message : String(err)}`;
  errorBox.hidden = false;
});
