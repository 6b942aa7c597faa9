import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MFD_HUGE_1GB } from '../src/host/constants.js';
test('constants', () => { assert.is(MFD_HUGE_1GB, 0x78000000); });
test.run();
