package io.semspai.checkpoint;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle virtual machine for the binary opcodes (protocols 2 to 5) that {@code torch.save} and state dicts use.
 *
 * <p>It builds plain Java values and never runs anything: a GLOBAL only yields a {@link PyGlobal} name, and calling
 * one (REDUCE, NEWOBJ) is either handled by {@link Calls} for the few torch functions that rebuild tensors or
 * yields an {@link OpaqueObject} that absorbs whatever the pickle later does to it.
 *
 * <p>Values: dict → {@link LinkedHashMap}, list → {@link ArrayList}, tuple → unmodifiable {@link List}, set →
 * {@link LinkedHashSet}, str → {@link String}, int → {@link Long} (or {@link BigInteger} beyond 64 bits), float →
 * {@link Double}, bool → {@link Boolean}, None → {@code null}, bytes → {@code byte[]}.
 */
final class PickleReader {
  /** What the caller decides: torch's rebuild functions and persistent ids. */
  interface Calls {
    /** The result of calling {@code callable(args)}, or {@code null} to skip the call as opaque. */
    Object call(PyGlobal callable, List<Object> args) throws CheckpointException;

    /** The object a persistent id (BINPERSID) stands for. */
    Object persistentLoad(Object pid) throws CheckpointException;
  }

  private static final Object MARK_SENTINEL = new Object();

  private final byte[] data;
  private final String source;
  private final Calls calls;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Integer, Object> memo = new HashMap<>();
  private int pos;
  private int opPos;

  private PickleReader(byte[] data, String source, Calls calls) {
    this.data = data;
    this.source = source;
    this.calls = calls;
  }

  /** Unpickles {@code data}; {@code source} names it in errors, e.g. {@code spai.pth: data.pkl}. */
  static Object load(byte[] data, String source, Calls calls) throws CheckpointException {
    return new PickleReader(data, source, calls).run();
  }

  private Object run() throws CheckpointException {
    try {
      while (true) {
        opPos = pos;
        if (pos >= data.length) {
          throw malformed("it ends without a STOP opcode, so it is truncated");
        }
        int op = u8();
        switch (op) {
          case 0x80: { // PROTO
            int proto = u8();
            if (proto > 5) {
              throw malformed("pickle protocol " + proto + " is newer than 5");
            }
            break;
          }
          case 0x95: // FRAME: a length hint only
            skip(8);
            break;
          case '.': // STOP
            if (stack.size() != 1 || !marks.isEmpty()) {
              throw malformed("STOP with " + stack.size() + " values on the stack");
            }
            return stack.get(0);
          case '(': // MARK
            marks.add(stack.size());
            break;
          case '0': // POP
            pop();
            break;
          case '1': // POP_MARK
            popMark();
            break;
          case '2': // DUP
            push(peek());
            break;
          case 'N':
            push(null);
            break;
          case 0x88:
            push(Boolean.TRUE);
            break;
          case 0x89:
            push(Boolean.FALSE);
            break;
          case 'J': // BININT
            push((long) i32());
            break;
          case 'K': // BININT1
            push((long) u8());
            break;
          case 'M': // BININT2
            push((long) (u8() | (u8() << 8)));
            break;
          case 0x8a: // LONG1
            push(littleEndianInt(u8()));
            break;
          case 0x8b: // LONG4
            push(littleEndianInt(length(i32())));
            break;
          case 'G': { // BINFLOAT: big-endian, unlike everything else
            long bits = 0;
            for (int i = 0; i < 8; i++) {
              bits = (bits << 8) | u8();
            }
            push(Double.longBitsToDouble(bits));
            break;
          }
          case 'X': // BINUNICODE
            push(utf8(length(i32())));
            break;
          case 0x8c: // SHORT_BINUNICODE
            push(utf8(u8()));
            break;
          case 0x8d: // BINUNICODE8
            push(utf8(length(i64())));
            break;
          case 'T': // BINSTRING (Python 2 str)
            push(latin1(length(i32())));
            break;
          case 'U': // SHORT_BINSTRING
            push(latin1(u8()));
            break;
          case 'B': // BINBYTES
            push(bytes(length(i32())));
            break;
          case 'C': // SHORT_BINBYTES
            push(bytes(u8()));
            break;
          case 0x8e: // BINBYTES8
          case 0x96: // BYTEARRAY8
            push(bytes(length(i64())));
            break;
          case '}': // EMPTY_DICT
            push(new LinkedHashMap<>());
            break;
          case 'd': { // DICT
            List<Object> items = popMark();
            Map<Object, Object> dict = new LinkedHashMap<>();
            putPairs(dict, items);
            push(dict);
            break;
          }
          case ']': // EMPTY_LIST
            push(new ArrayList<>());
            break;
          case 'l': // LIST
            push(new ArrayList<>(popMark()));
            break;
          case ')': // EMPTY_TUPLE
            push(Collections.emptyList());
            break;
          case 't': // TUPLE
            push(tuple(popMark()));
            break;
          case 0x85: // TUPLE1
            push(tuple(popN(1)));
            break;
          case 0x86: // TUPLE2
            push(tuple(popN(2)));
            break;
          case 0x87: // TUPLE3
            push(tuple(popN(3)));
            break;
          case 0x8f: // EMPTY_SET
            push(new LinkedHashSet<>());
            break;
          case 0x90: { // ADDITEMS
            List<Object> items = popMark();
            addAll(peek(), items);
            break;
          }
          case 0x91: // FROZENSET
            push(Collections.unmodifiableSet(new LinkedHashSet<>(popMark())));
            break;
          case 'a': { // APPEND
            Object item = pop();
            addAll(peek(), Collections.singletonList(item));
            break;
          }
          case 'e': { // APPENDS
            List<Object> items = popMark();
            addAll(peek(), items);
            break;
          }
          case 's': { // SETITEM
            Object value = pop();
            Object key = pop();
            putPairs(peek(), Arrays.asList(key, value));
            break;
          }
          case 'u': { // SETITEMS
            List<Object> items = popMark();
            putPairs(peek(), items);
            break;
          }
          case 'c': // GLOBAL
            push(new PyGlobal(line(), line()));
            break;
          case 0x93: { // STACK_GLOBAL
            Object name = pop();
            Object module = pop();
            if (!(module instanceof String) || !(name instanceof String)) {
              throw malformed("STACK_GLOBAL needs two strings");
            }
            push(new PyGlobal((String) module, (String) name));
            break;
          }
          case 'R': { // REDUCE
            Object args = pop();
            Object callable = pop();
            push(call(callable, asArgs(args)));
            break;
          }
          case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
            Object args = pop();
            Object cls = pop();
            push(newObject(cls, asArgs(args)));
            break;
          }
          case 0x92: { // NEWOBJ_EX: keyword arguments are kept as a trailing dict
            Object kwargs = pop();
            Object args = pop();
            Object cls = pop();
            List<Object> all = new ArrayList<>(asArgs(args));
            all.add(kwargs);
            push(newObject(cls, all));
            break;
          }
          case 'o': { // OBJ: MARK cls args... OBJ
            List<Object> items = popMark();
            if (items.isEmpty()) {
              throw malformed("OBJ without a class");
            }
            push(newObject(items.get(0), items.subList(1, items.size())));
            break;
          }
          case 'b': { // BUILD
            Object state = pop();
            build(peek(), state);
            break;
          }
          case 'q': // BINPUT
            memo.put(u8(), peek());
            break;
          case 'r': // LONG_BINPUT
            memo.put(i32(), peek());
            break;
          case 0x94: // MEMOIZE
            memo.put(memo.size(), peek());
            break;
          case 'h': // BINGET
            push(memoGet(u8()));
            break;
          case 'j': // LONG_BINGET
            push(memoGet(i32()));
            break;
          case 'Q': // BINPERSID
            push(calls.persistentLoad(pop()));
            break;
          default:
            throw unsupported(op);
        }
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      throw malformed("it ends in the middle of an opcode");
    }
  }

  private Object call(Object callable, List<Object> args) throws CheckpointException {
    if (callable instanceof PyGlobal) {
      PyGlobal g = (PyGlobal) callable;
      Object built = builtin(g, args);
      if (built == null) {
        built = calls.call(g, args);
      }
      return built != null ? built : new OpaqueObject(g, args);
    }
    return new OpaqueObject(null, args);
  }

  private static Object newObject(Object cls, List<Object> args) {
    return new OpaqueObject(cls instanceof PyGlobal ? (PyGlobal) cls : null, args);
  }

  /** The handful of pure builtins that build plain containers; everything else stays a name. */
  private Object builtin(PyGlobal g, List<Object> args) throws CheckpointException {
    String m = g.module();
    String n = g.name();
    if (m.equals("collections") && n.equals("OrderedDict")
        || (m.equals("builtins") || m.equals("__builtin__")) && n.equals("dict")) {
      Map<Object, Object> dict = new LinkedHashMap<>();
      if (args.size() == 1 && args.get(0) instanceof List) {
        for (Object pair : (List<?>) args.get(0)) {
          if (!(pair instanceof List) || ((List<?>) pair).size() != 2) {
            throw malformed(g + " expects (key, value) pairs");
          }
          dict.put(((List<?>) pair).get(0), ((List<?>) pair).get(1));
        }
      } else if (args.size() == 1 && args.get(0) instanceof Map) {
        dict.putAll((Map<?, ?>) args.get(0));
      } else if (!args.isEmpty()) {
        return null;
      }
      return dict;
    }
    if ((m.equals("builtins") || m.equals("__builtin__")) && (n.equals("set") || n.equals("frozenset"))) {
      Set<Object> set = new LinkedHashSet<>();
      if (args.size() == 1 && args.get(0) instanceof List) {
        set.addAll((List<?>) args.get(0));
      } else if (!args.isEmpty()) {
        return null;
      }
      return set;
    }
    if (m.equals("_codecs") && n.equals("encode") && args.size() == 2 && args.get(0) instanceof String
        && "latin1".equals(args.get(1))) {
      // Protocol 2 spells a bytes object as _codecs.encode(latin-1 text, 'latin1').
      return ((String) args.get(0)).getBytes(StandardCharsets.ISO_8859_1);
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private void putPairs(Object target, List<Object> items) throws CheckpointException {
    if (items.size() % 2 != 0) {
      throw malformed("odd number of items for a dict");
    }
    Map<Object, Object> dict;
    if (target instanceof Map) {
      dict = (Map<Object, Object>) target;
    } else if (target instanceof OpaqueObject) {
      dict = ((OpaqueObject) target).items();
    } else {
      throw malformed("SETITEM on a " + describe(target));
    }
    for (int i = 0; i < items.size(); i += 2) {
      dict.put(items.get(i), items.get(i + 1));
    }
  }

  @SuppressWarnings("unchecked")
  private void addAll(Object target, List<Object> items) throws CheckpointException {
    if (target instanceof List) {
      ((List<Object>) target).addAll(items);
    } else if (target instanceof Set) {
      ((Set<Object>) target).addAll(items);
    } else if (target instanceof OpaqueObject) {
      ((OpaqueObject) target).listItems().addAll(items);
    } else {
      throw malformed("APPEND on a " + describe(target));
    }
  }

  private static void build(Object target, Object state) {
    if (target instanceof OpaqueObject) {
      ((OpaqueObject) target).setState(state);
    }
    // A dict's state is its instance __dict__ (a state dict's _metadata) and a tensor's is a subclass's
    // attributes: neither changes the tensors, so they are dropped.
  }

  private static List<Object> asArgs(Object args) {
    if (args instanceof List) {
      @SuppressWarnings("unchecked")
      List<Object> list = (List<Object>) args;
      return list;
    }
    return Collections.singletonList(args);
  }

  private static List<Object> tuple(List<Object> items) {
    return Collections.unmodifiableList(new ArrayList<>(items));
  }

  private Object memoGet(int index) throws CheckpointException {
    if (!memo.containsKey(index)) {
      throw malformed("memo entry " + index + " is read before it is written");
    }
    return memo.get(index);
  }

  private void push(Object value) {
    stack.add(value);
  }

  private Object pop() throws CheckpointException {
    int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    if (stack.size() <= floor) {
      throw malformed("stack underflow");
    }
    return stack.remove(stack.size() - 1);
  }

  private Object peek() throws CheckpointException {
    int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    if (stack.size() <= floor) {
      throw malformed("stack underflow");
    }
    return stack.get(stack.size() - 1);
  }

  private List<Object> popN(int n) throws CheckpointException {
    Object[] items = new Object[n];
    for (int i = n - 1; i >= 0; i--) {
      items[i] = pop();
    }
    return Arrays.asList(items);
  }

  private List<Object> popMark() throws CheckpointException {
    if (marks.isEmpty()) {
      throw malformed("no MARK to pop to");
    }
    int at = marks.remove(marks.size() - 1);
    List<Object> top = stack.subList(at, stack.size());
    List<Object> items = new ArrayList<>(top);
    top.clear();
    return items;
  }

  private int u8() {
    return data[pos++] & 0xff;
  }

  private int i32() {
    int v = u8() | (u8() << 8) | (u8() << 16) | (u8() << 24);
    return v;
  }

  private long i64() {
    long lo = i32() & 0xffffffffL;
    long hi = i32() & 0xffffffffL;
    return lo | (hi << 32);
  }

  private int length(long n) throws CheckpointException {
    if (n < 0 || n > data.length - pos) {
      throw malformed("a length of " + n + " runs past the end of the pickle");
    }
    return (int) n;
  }

  private void skip(int n) throws CheckpointException {
    pos += length(n);
  }

  private Object littleEndianInt(int n) throws CheckpointException {
    byte[] bigEndian = new byte[n];
    for (int i = 0; i < n; i++) {
      bigEndian[n - 1 - i] = data[pos + i];
    }
    skip(n);
    if (n == 0) {
      return 0L;
    }
    BigInteger v = new BigInteger(bigEndian);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private String utf8(int n) {
    String s = new String(data, pos, n, StandardCharsets.UTF_8);
    pos += n;
    return s;
  }

  private String latin1(int n) {
    String s = new String(data, pos, n, StandardCharsets.ISO_8859_1);
    pos += n;
    return s;
  }

  private byte[] bytes(int n) {
    byte[] b = Arrays.copyOfRange(data, pos, pos + n);
    pos += n;
    return b;
  }

  private String line() throws CheckpointException {
    int start = pos;
    while (pos < data.length && data[pos] != '\n') {
      pos++;
    }
    if (pos >= data.length) {
      throw malformed("GLOBAL name is not terminated");
    }
    return new String(data, start, pos++ - start, StandardCharsets.UTF_8);
  }

  private CheckpointException malformed(String what) {
    return new CheckpointException(source + " is not a valid pickle at byte " + opPos + ": " + what
        + " (the file is damaged or not written by torch.save)");
  }

  private CheckpointException unsupported(int op) {
    String name = TEXT_OPCODES.get(op);
    String shown = op >= 0x20 && op < 0x7f ? "'" + (char) op + "' " : "";
    return new CheckpointException(source + ": unsupported pickle opcode " + shown
        + String.format("0x%02x", op) + (name != null ? " (" + name + ")" : "") + " at byte " + opPos
        + ": only the binary pickle protocols torch.save writes (2 to 5) are read; re-save the file with"
        + " torch.save(obj, path)");
  }

  static String describe(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof Map) {
      return "dict";
    }
    if (v instanceof List) {
      return "list/tuple";
    }
    if (v instanceof Long || v instanceof BigInteger) {
      return "int";
    }
    if (v instanceof Double) {
      return "float";
    }
    if (v instanceof String) {
      return "str";
    }
    if (v instanceof byte[]) {
      return "bytes";
    }
    return v.getClass().getSimpleName() + (v instanceof OpaqueObject ? " " + v : "");
  }

  /** Opcodes of the text protocols and of features torch.save never uses, named for the error message. */
  private static final Map<Integer, String> TEXT_OPCODES = Map.ofEntries(
      Map.entry((int) 'I', "INT, protocol 0 text"),
      Map.entry((int) 'L', "LONG, protocol 0 text"),
      Map.entry((int) 'F', "FLOAT, protocol 0 text"),
      Map.entry((int) 'S', "STRING, protocol 0 text"),
      Map.entry((int) 'V', "UNICODE, protocol 0 text"),
      Map.entry((int) 'p', "PUT, protocol 0 text"),
      Map.entry((int) 'g', "GET, protocol 0 text"),
      Map.entry((int) 'i', "INST, protocol 0 text"),
      Map.entry((int) 'P', "PERSID, protocol 0 text"),
      Map.entry(0x82, "EXT1, extension registry"),
      Map.entry(0x83, "EXT2, extension registry"),
      Map.entry(0x84, "EXT4, extension registry"),
      Map.entry(0x97, "NEXT_BUFFER, out-of-band buffer"),
      Map.entry(0x98, "READONLY_BUFFER, out-of-band buffer"));
}
