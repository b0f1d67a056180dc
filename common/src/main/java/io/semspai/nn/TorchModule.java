package io.semspai.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DJL block whose children and parameters carry the names of the PyTorch module it mirrors, so that
 * {@link #stateShapes()} yields exactly the keys of the upstream {@code state_dict} and a checkpoint tensor maps to
 * one parameter with no table of special cases. (DJL's own {@code addChildBlock} prefixes child names with a
 * counter, which is why the torch names are kept here as well.)
 *
 * <p>Parameters are created without an array; a loader fills them with {@link #loadState}. Every parameter is
 * created frozen: SPAI's backbone never trains in this project, and a trainer unfreezes what it needs.
 */
public abstract class TorchModule extends AbstractBlock {
  private final Map<String, TorchModule> modules = new LinkedHashMap<>();
  private final Map<String, Parameter> params = new LinkedHashMap<>();
  private final Map<String, Shape> shapes = new LinkedHashMap<>();
  private final Map<String, DataType> dataTypes = new LinkedHashMap<>();

  protected final <M extends TorchModule> M module(String torchName, M child) {
    if (modules.containsKey(torchName) || params.containsKey(torchName)) {
      throw new IllegalArgumentException("duplicate name " + torchName);
    }
    modules.put(torchName, child);
    addChildBlock(torchName, child);
    return child;
  }

  protected final Parameter param(String torchName, Shape shape) {
    return param(torchName, shape, Parameter.Type.WEIGHT);
  }

  protected final Parameter param(String torchName, Shape shape, Parameter.Type type) {
    return param(torchName, shape, type, DataType.FLOAT32);
  }

  /** A parameter of a fixed data type, such as upstream's int64 frequency mask. */
  protected final Parameter param(String torchName, Shape shape, Parameter.Type type, DataType dataType) {
    if (modules.containsKey(torchName) || params.containsKey(torchName)) {
      throw new IllegalArgumentException("duplicate name " + torchName);
    }
    Parameter p = addParameter(Parameter.builder().setName(torchName).setType(type).optRequiresGrad(false).build());
    params.put(torchName, p);
    shapes.put(torchName, shape);
    dataTypes.put(torchName, dataType);
    return p;
  }

  /** Every parameter under its full torch key, in registration order. */
  public final Map<String, Parameter> stateParameters() {
    Map<String, Parameter> out = new LinkedHashMap<>();
    collect("", out, null);
    return out;
  }

  /** The shape each torch key must have. */
  public final Map<String, Shape> stateShapes() {
    Map<String, Shape> out = new LinkedHashMap<>();
    collect("", null, out);
    return Collections.unmodifiableMap(out);
  }

  /**
   * The data type each torch key holds: float32 for weights (the loader converts F16/BF16), int64 where upstream
   * stores integers. This is what a checkpoint must hold; {@link #loadState(Map, Placement)} then casts the float
   * tensors to the placement's precision once, so reduced precision costs no cast per forward.
   */
  public final Map<String, DataType> stateDataTypes() {
    Map<String, DataType> out = new LinkedHashMap<>();
    collect("", null, null, out);
    return Collections.unmodifiableMap(out);
  }

  private void collect(String prefix, Map<String, Parameter> ps, Map<String, Shape> ss) {
    collect(prefix, ps, ss, null);
  }

  private void collect(String prefix, Map<String, Parameter> ps, Map<String, Shape> ss, Map<String, DataType> ds) {
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      if (ps != null) {
        ps.put(prefix + e.getKey(), e.getValue());
      }
      if (ss != null) {
        ss.put(prefix + e.getKey(), shapes.get(e.getKey()));
      }
      if (ds != null) {
        ds.put(prefix + e.getKey(), dataTypes.get(e.getKey()));
      }
    }
    for (Map.Entry<String, TorchModule> e : modules.entrySet()) {
      e.getValue().collect(prefix + e.getKey() + ".", ps, ss, ds);
    }
  }

  /**
   * Gives every parameter its array. The caller has already checked names and shapes (a bundle loader reports
   * all mismatches at once); this re-checks them so no path can leave the block half filled.
   */
  public final void loadState(Map<String, NDArray> arrays) {
    loadState(arrays, null);
  }

  /**
   * {@link #loadState(Map)}, then every array moved to the placement's device (where it is not already there) and
   * every float32 tensor cast to its precision; an array replaced that way is closed. Integer tensors (SPAI's
   * frequency mask) keep their type. A null placement leaves the arrays as they are.
   */
  public final void loadState(Map<String, NDArray> arrays, Placement placement) {
    Map<String, Parameter> ps = stateParameters();
    Map<String, Shape> ss = stateShapes();
    Map<String, DataType> ds = stateDataTypes();
    for (Map.Entry<String, Parameter> e : ps.entrySet()) {
      NDArray a = arrays.get(e.getKey());
      if (a == null) {
        throw new IllegalArgumentException("missing tensor " + e.getKey());
      }
      if (!a.getShape().equals(ss.get(e.getKey()))) {
        throw new IllegalArgumentException(
            "tensor " + e.getKey() + " has shape " + a.getShape() + ", expected " + ss.get(e.getKey()));
      }
      if (a.getDataType() != ds.get(e.getKey())) {
        throw new IllegalArgumentException(
            "tensor " + e.getKey() + " is " + a.getDataType() + ", expected " + ds.get(e.getKey()));
      }
    }
    for (Map.Entry<String, Parameter> e : ps.entrySet()) {
      if (e.getValue().isInitialized()) {
        throw new IllegalStateException("parameter " + e.getKey() + " is already loaded; build a new block instead");
      }
    }
    for (Map.Entry<String, Parameter> e : ps.entrySet()) {
      NDArray a = arrays.get(e.getKey());
      NDArray placed = a;
      if (placement != null) {
        placed = a.toDevice(placement.device(), false);
        if (ds.get(e.getKey()) == DataType.FLOAT32) {
          NDArray cast = placed.toType(placement.dataType(), false);
          if (cast != placed && placed != a) {
            placed.close();
          }
          placed = cast;
        }
        if (placed != a) {
          a.close();
        }
      }
      e.getValue().setArray(placed);
    }
  }

  /**
   * The dtype this module computes in: that of its first loaded floating-point parameter (float32 before loading).
   * Inputs are cast to it where a module takes values from outside (patches after the FFT, cached features).
   */
  public final DataType computeType() {
    Map<String, DataType> declared = stateDataTypes();
    for (Map.Entry<String, Parameter> e : stateParameters().entrySet()) {
      if (declared.get(e.getKey()) == DataType.FLOAT32 && e.getValue().isInitialized()) {
        return e.getValue().getArray().getDataType();
      }
    }
    return DataType.FLOAT32;
  }

  /** {@code x} in this module's {@link #computeType()}; {@code x} itself when it already is. */
  public final NDArray toComputeType(NDArray x) {
    return x.toType(computeType(), false);
  }

  /**
   * The value of a parameter for this forward pass. Inference passes a null store and reads the array directly:
   * DJL's {@link ParameterStore} keeps an unsynchronised map, and frozen weights need no copy.
   */
  protected static NDArray value(ParameterStore ps, Parameter p, NDArray like, boolean training) {
    return ps == null ? p.getArray() : ps.getValue(p, like.getDevice(), training);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(forward(ps, inputs.singletonOrThrow(), training));
  }

  /** The module's forward on one tensor; modules with several inputs or outputs add their own typed methods. */
  public abstract NDArray forward(ParameterStore ps, NDArray x, boolean training);

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not infer output shapes");
  }
}
