namespace QuantBuild.Engine.Config;

/// <summary>
/// The keys the loader accepts at each level: the single list both the loader's unknown-key check and the schema
/// agreement test read, so docs/quantize.schema.json and the loader cannot drift apart.
/// </summary>
public static class QuantizeConfigKeys
{
    /// <summary>Top level.</summary>
    public static readonly IReadOnlyList<string> Root = ["model", "output", "inputs", "calibration", "evaluation", "gate", "plugins", "cache", "targets"];

    /// <summary>Each input under <c>inputs</c>.</summary>
    public static readonly IReadOnlyList<string> Input = ["value", "shape", "stream"];

    /// <summary><c>calibration</c>.</summary>
    public static readonly IReadOnlyList<string> Calibration = ["data", "method", "percentile", "histogram", "samples", "batch_size"];

    /// <summary><c>evaluation</c>.</summary>
    public static readonly IReadOnlyList<string> Evaluation = ["data", "labels", "metric", "metric_options", "k", "dictionary", "output", "batch_size"];

    /// <summary><c>data</c> of <c>calibration</c> or <c>evaluation</c> when a plugin's reader reads it.</summary>
    public static readonly IReadOnlyList<string> DataReader = ["reader", "path", "options"];

    /// <summary><c>gate</c>, top level and per target.</summary>
    public static readonly IReadOnlyList<string> Gate = ["max_drop", "min"];

    /// <summary>One entry of <c>plugins</c>.</summary>
    public static readonly IReadOnlyList<string> Plugin = ["path", "sha256", "allow_outside", "package", "version"];

    /// <summary>One target under <c>targets</c>.</summary>
    public static readonly IReadOnlyList<string> Target = ["device", "recipe", "weights", "exclude", "gate", "output", "fallback", "budget", "size", "require_speedup", "activations"];

    /// <summary><c>weights</c> of a target.</summary>
    public static readonly IReadOnlyList<string> Weights = ["bits", "granularity", "block_size", "format", "zero_point", "accuracy_level"];

    /// <summary><c>activations</c> of a target, in its mapping form.</summary>
    public static readonly IReadOnlyList<string> Activations = ["mode", "dynamic"];

    /// <summary><c>exclude</c> of a target.</summary>
    public static readonly IReadOnlyList<string> Exclude = ["nodes", "op_types"];

    /// <summary><c>budget</c> of a target with <c>fallback: auto</c>.</summary>
    public static readonly IReadOnlyList<string> Budget = ["trials", "seconds"];

    /// <summary><c>size</c> of a target with <c>fallback: auto</c>.</summary>
    public static readonly IReadOnlyList<string> Size = ["max_bits_per_weight", "max_bytes"];

    /// <summary><c>cache</c>.</summary>
    public static readonly IReadOnlyList<string> Cache = ["remote", "lock_wait_seconds"];

    /// <summary><c>cache.remote</c>.</summary>
    public static readonly IReadOnlyList<string> RemoteCache = ["kind", "container", "prefix", "connection_env", "timeout_seconds"];

    /// <summary>The one key every recipe step has; its other keys are the pass's own options.</summary>
    public const string Pass = "pass";

    /// <summary>The recipe-step key the host reads for itself: the pass's time limit in seconds.</summary>
    public const string PassTimeout = "timeout_seconds";
}
