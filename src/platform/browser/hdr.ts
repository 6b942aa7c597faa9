// hdr-histogram-js in a browser: bundled with the page.
import * as Hdr from 'hdr-histogram-js';
import type * as Node from '../node/hdr.js';

export const hdr: typeof Node.hdr = () => Hdr;
