// The MJPEG view: the multipart stream shown by an <img>, which replaces its picture with each
// part. The page reads the pixel code from the shown picture.

/** Shows a detector's MJPEG stream in an <img>; `onError(text)` reports to the page. */
export class MjpegView {
  /**
   * @param {HTMLImageElement} img
   * @param {(text: string) => void} onError
   */
  constructor(img, onError) {
    this.img = img;
    this.onError = onError;
    /** The stream's URL while it is shown, else null. */
    this.state = { url: /** @type {string | null} */ (null) };
    img.addEventListener('error', () => {
      // Removing the src on stop ends the load too; only an unexpected end is an error.
      if (this.state.url !== null) this.onError('the stream could not be loaded');
    });
  }

  /** Loads the stream at `url` (a path relative to the server). */
  start(url) {
    this.stop();
    this.state.url = streamUrl(url);
    this.img.src = this.state.url;
  }

  /** Ends the stream's response (without this the browser keeps it open). */
  stop() {
    this.state.url = null;
    this.img.removeAttribute('src');
  }
}

/** The server gives an absolute path; a relative one keeps a path prefix in front of it. */
function streamUrl(url) {
  const resolved = new URL(url.startsWith('/') ? `.${url}` : url, document.baseURI);
  // A new URL each time: the browser would otherwise reuse the finished response of a stopped stream.
  resolved.searchParams.set('t', String(Date.now()));
  return resolved.href;
}
