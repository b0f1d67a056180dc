package io.semspai.checkpoint;

/**
 * One storage as a persistent id names it: {@code ('storage', torch.<Type>Storage, key, location, numel)}. Its
 * bytes are the archive entry {@code <top>/data/<key>}.
 *
 * @param key the entry name under {@code data/}
 * @param typeName the storage class, e.g. {@code FloatStorage}, or {@code UntypedStorage}
 * @param dtype its element type, {@code null} when this reader does not support it
 * @param numel the element count torch declared (bytes for an untyped storage)
 * @param location the device it was saved from, e.g. {@code cpu} or {@code cuda:0}; the bytes are the same
 */
record StorageRef(String key, String typeName, DType dtype, long numel, String location) {
  String entryName() {
    return "data/" + key;
  }
}
