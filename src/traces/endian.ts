// The binary readers view file bytes through typed arrays, which use the host's byte order;
// both ChampSim and mfrsim traces are little-endian.

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function requireLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error('binary traces can only be read or written on a little-endian host');
}
