// Recordings panel: record the selected detector in a chosen format, list active and finished
// recordings with their counters, stop, download and delete them (GET/POST/DELETE
// /liveview/recordings).

const POLL_MS = 1000;

/** Human-readable size. */
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The recordings section of the page. */
export class RecordingsPanel {
  /**
   * @param {{format: HTMLSelectElement, record: HTMLButtonElement, list: HTMLTableSectionElement}} elements
   * @param {(path: string, body?: unknown, method?: string) => Promise<any>} api the page's REST helper
   * @param {() => string} detectorName the selected detector
   * @param {(message: string) => void} showError
   */
  constructor(elements, api, detectorName, showError) {
    this.elements = elements;
    this.api = api;
    this.detectorName = detectorName;
    this.showError = showError;
    this.mayOperate = true;
    /** Read by the end-to-end tests: the last list the server gave. */
    this.state = { recordings: [] };
    elements.record.addEventListener('click', () => void this.record());
  }

  /** Loads the formats, shows the list and keeps it fresh. */
  async start(mayOperate) {
    this.mayOperate = mayOperate;
    const answer = await this.api('recordings/formats');
    this.elements.format.replaceChildren(
      ...answer.formats.map((f) => new Option(`${f.name} — ${f.description}`, f.name)),
    );
    this.elements.record.disabled = !mayOperate || answer.formats.length === 0;
    if (!mayOperate) this.elements.record.title = 'recording needs the operator role';
    await this.refresh();
    setInterval(() => void this.refresh().catch(() => undefined), POLL_MS);
  }

  async record() {
    try {
      await this.api('recordings', {
        detectorName: this.detectorName(),
        format: this.elements.format.value,
      });
      await this.refresh();
    } catch (err) {
      this.showError(`could not start the recording: ${err instanceof Error ? err.message : err}`);
    }
  }

  async act(what, path, method) {
    try {
      await this.api(path, method === 'POST' ? {} : undefined, method);
      await this.refresh();
    } catch (err) {
      this.showError(`${what}: ${err instanceof Error ? err.message : err}`);
    }
  }

  async refresh() {
    const answer = await this.api('recordings');
    this.state.recordings = answer.recordings;
    this.elements.list.replaceChildren(...answer.recordings.map((r) => this.row(r)));
  }

  row(recording) {
    const tr = document.createElement('tr');
    const id = encodeURIComponent(recording.id);
    const cells = [
      recording.file,
      recording.detectorName,
      recording.format,
      recording.state + (recording.error ? `: ${recording.error}` : ''),
      `${recording.framesWritten} (${recording.framesDropped} dropped)`,
      `${recording.durationS.toFixed(1)} s`,
      formatBytes(recording.bytes),
    ];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const actions = document.createElement('td');
    const active = recording.state === 'recording' || recording.state === 'stopping';
    if (active) {
      const stop = document.createElement('button');
      stop.type = 'button';
      stop.textContent = 'Stop';
      stop.disabled = !this.mayOperate || recording.state === 'stopping';
      stop.addEventListener('click', () =>
        this.act('could not stop the recording', `recordings/${id}/stop`, 'POST'),
      );
      actions.append(stop);
    } else {
      const link = document.createElement('a');
      // Relative, like every URL of the page, so that a path prefix of a reverse proxy works.
      link.href = `.${recording.url}`;
      link.textContent = 'Download';
      link.setAttribute('download', '');
      actions.append(link);
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'Delete';
      remove.disabled = !this.mayOperate;
      remove.addEventListener('click', () =>
        this.act('could not delete the recording', `recordings/${id}`, 'DELETE'),
      );
      actions.append(remove);
    }
    tr.append(actions);
    return tr;
  }
}
