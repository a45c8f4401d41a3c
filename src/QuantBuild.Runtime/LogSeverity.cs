namespace QuantBuild.Runtime;

/// <summary>The least severe ONNX Runtime log message that is printed (ORT's <c>OrtLoggingLevel</c> numbers).</summary>
public enum LogSeverity
{
    /// <summary>Everything, including verbose tracing.</summary>
    Verbose = 0,
    /// <summary>Informational messages and above.</summary>
    Info = 1,
    /// <summary>Warnings and above: ONNX Runtime's default.</summary>
    Warning = 2,
    /// <summary>Errors and above.</summary>
    Error = 3,
    /// <summary>Only fatal errors.</summary>
    Fatal = 4,
}
