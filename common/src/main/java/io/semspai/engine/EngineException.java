package io.semspai.engine;

/** Why the engine did not score an image; each subtype is a distinct, actionable condition. */
public class EngineException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EngineException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The queue is full and the engine is configured to reject rather than block: retry later. */
  public static final class Overloaded extends EngineException {
    private static final long serialVersionUID = 1L;

    public Overloaded(String message) {
      super(message, null);
    }
  }

  /** One image needs more memory than the whole budget: it can never be scored with these settings. */
  public static final class TooLargeForBudget extends EngineException {
    private static final long serialVersionUID = 1L;

    public TooLargeForBudget(String message) {
      super(message, null);
    }
  }

  /** The engine was closed before the image was scored. */
  public static final class Closed extends EngineException {
    private static final long serialVersionUID = 1L;

    public Closed(String message) {
      super(message, null);
    }
  }

  /** The model failed on a batch holding this image. */
  public static final class ModelFailure extends EngineException {
    private static final long serialVersionUID = 1L;

    public ModelFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
