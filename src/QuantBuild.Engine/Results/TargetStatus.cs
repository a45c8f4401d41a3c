namespace QuantBuild.Engine.Results;

/// <summary>How one target ended.</summary>
public enum TargetStatus
{
    /// <summary>Quantized, evaluated, within the gate, written.</summary>
    Passed,

    /// <summary>Quantized and evaluated, but the gate refused it: not written to the output.</summary>
    GateFailed,

    /// <summary>A QB error stopped the target; nothing was written for it.</summary>
    Error,
}
