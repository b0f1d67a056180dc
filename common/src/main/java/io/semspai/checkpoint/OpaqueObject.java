package io.semspai.checkpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Python object the reader skipped without understanding: a yacs config, optimizer internals, a NumPy scalar,
 * any class instance. It records what the pickle said about it (the callable or class, its arguments, dict and
 * list items, the state passed to {@code __setstate__}) so it can be inspected, but nothing is ever instantiated
 * or executed.
 */
public final class OpaqueObject {
  private final PyGlobal type;
  private final List<Object> args;
  private final Map<Object, Object> items = new LinkedHashMap<>();
  private final List<Object> listItems = new ArrayList<>();
  private Object state;

  OpaqueObject(PyGlobal type, List<Object> args) {
    this.type = type;
    this.args = args;
  }

  /** The class or callable that would have built it, or {@code null} when that was itself not a named global. */
  public PyGlobal type() {
    return type;
  }

  /** The arguments it would have been called with. */
  public List<Object> args() {
    return args;
  }

  /** Items set on it as on a dict (dict subclasses such as yacs' CfgNode). */
  public Map<Object, Object> items() {
    return items;
  }

  /** Items appended to it as to a list. */
  public List<Object> listItems() {
    return listItems;
  }

  /** The state a BUILD opcode passed, typically the instance's {@code __dict__}; {@code null} if none. */
  public Object state() {
    return state;
  }

  void setState(Object state) {
    this.state = state;
  }

  @Override
  public String toString() {
    return "<skipped " + (type == null ? "object" : type.qualifiedName()) + ">";
  }
}
