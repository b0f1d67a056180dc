package io.semspai.checkpoint;

/**
 * A reference to a Python global ({@code module.name}) as a pickle names it. It is only ever a name: the reader
 * never imports, resolves or calls anything.
 */
public record PyGlobal(String module, String name) {
  public String qualifiedName() {
    return module + "." + name;
  }

  @Override
  public String toString() {
    return qualifiedName();
  }
}
