// Buffer's undocumented but long-stable string methods (present in every Node
// version we support). They skip the encoding dispatch of toString()/write(),
// which matters on the per-request path.
declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    latin1Write(value: string, offset: number, length?: number): number;
    utf8Write(value: string, offset: number, length?: number): number;
  }
}
export {};
