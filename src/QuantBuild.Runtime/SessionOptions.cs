namespace QuantBuild.Runtime;

/// <summary>
/// Settings for an <see cref="InferenceSession"/>. A plain managed object (the native options exist only while a
/// session is created), so it can be reused, shared between sessions and written into a manifest verbatim.
/// </summary>
public sealed class SessionOptions
{
    private readonly Dictionary<string, string> _configEntries = new(StringComparer.Ordinal);

    /// <summary>Threads used inside one operator; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpNumThreads { get; set; }

    /// <summary>Threads used across operators in <see cref="ExecutionMode.Parallel"/>; 0 lets ONNX Runtime choose.</summary>
    public int InterOpNumThreads { get; set; }

    /// <summary>Graph rewrites applied when the session is created. ONNX Runtime's default is <see cref="GraphOptimizationLevel.All"/>.</summary>
    public GraphOptimizationLevel GraphOptimizationLevel { get; set; } = GraphOptimizationLevel.All;

    /// <summary>When set, ONNX Runtime writes the optimized graph to this file while creating the session.</summary>
    public string? OptimizedModelFilePath { get; set; }

    /// <summary>
    /// The least severe message ONNX Runtime prints for this session (to stderr); null keeps the environment's
    /// (warnings). <see cref="LogSeverity.Error"/> silences, for example, the warning ORT prints whenever it writes an
    /// <see cref="OptimizedModelFilePath"/> at the highest optimization level.
    /// </summary>
    public LogSeverity? LogSeverityLevel { get; set; }

    /// <summary>Sequential or parallel execution of independent branches.</summary>
    public ExecutionMode ExecutionMode { get; set; } = ExecutionMode.Sequential;

    /// <summary>Session configuration entries added with <see cref="AddConfigEntry"/>, in no particular order.</summary>
    public IReadOnlyDictionary<string, string> ConfigEntries => _configEntries;

    /// <summary>
    /// Sets an ONNX Runtime session configuration key (onnxruntime_session_options_config_keys.h), for example
    /// <c>session.qdqisint8allowed</c>. A later call with the same key replaces the value, as in ORT.
    /// </summary>
    public void AddConfigEntry(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        _configEntries[key] = value;
    }

    /// <summary>A copy that can be changed without changing this one (for example to add a per-session config entry).</summary>
    public SessionOptions Clone()
    {
        var copy = new SessionOptions
        {
            IntraOpNumThreads = IntraOpNumThreads,
            InterOpNumThreads = InterOpNumThreads,
            GraphOptimizationLevel = GraphOptimizationLevel,
            OptimizedModelFilePath = OptimizedModelFilePath,
            LogSeverityLevel = LogSeverityLevel,
            ExecutionMode = ExecutionMode,
        };
        foreach ((string key, string value) in _configEntries)
        {
            copy._configEntries[key] = value;
        }

        return copy;
    }
}
