import { expect } from 'chai';
import {
  MJPEG_CONTENT_TYPE,
  PART_TRAILER,
  partHeader,
  streamEnd,
} from '../../src/protocols/mjpeg/multipart.js';

describe('MJPEG multipart writer', () => {
  it('writes the part header byte for byte', () => {
    const head = partHeader(1234, { 'X-Frame-Number': 7 });
    expect(head.toString('latin1')).to.equal(
      '--liveviewframe\r\nContent-Type: image/jpeg\r\nContent-Length: 1234\r\nX-Frame-Number: 7\r\n\r\n',
    );
  });

  it('ends parts with CRLF and the stream with the closing boundary', () => {
    expect([...PART_TRAILER]).to.deep.equal([13, 10]);
    expect(streamEnd().toString('latin1')).to.equal('--liveviewframe--\r\n');
  });

  it('announces the boundary in the content type', () => {
    expect(MJPEG_CONTENT_TYPE).to.equal('multipart/x-mixed-replace; boundary=liveviewframe');
  });
});
