package io.semspai.spai;

/** A patch's footprint in the original image's pixels ({@code x, y} top-left, then width and height). */
public record PatchBox(int x, int y, int width, int height) {
  public int[] toArray() {
    return new int[] {x, y, width, height};
  }
}
