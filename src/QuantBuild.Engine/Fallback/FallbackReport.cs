namespace QuantBuild.Engine.Fallback;

/// <summary>What <c>fallback: auto</c> did for a target: every trial, the layers it kept and why.</summary>
public sealed record FallbackReport
{
    /// <summary>True when the chosen model passes the gate (and meets the size target, when there is one).</summary>
    public required bool Passed { get; init; }

    /// <summary>True when the trial or time budget ended the search.</summary>
    public bool BudgetExhausted { get; init; }

    /// <summary>Trials run.</summary>
    public int Trials { get; init; }

    /// <summary>The budget's trial limit.</summary>
    public int MaxTrials { get; init; }

    /// <summary>Search wall time.</summary>
    public double Seconds { get; init; }

    /// <summary>The layers, most sensitive first, with the precision each ended at.</summary>
    public required IReadOnlyList<FallbackLayer> Layers { get; init; }

    /// <summary>Every trial in order.</summary>
    public required IReadOnlyList<FallbackStep> Steps { get; init; }

    /// <summary>Layers kept in higher precision in the chosen model.</summary>
    public required IReadOnlyList<string> Kept { get; init; }

    /// <summary>Per kept node, the trial evidence for keeping it (the segment search fills it; empty otherwise).</summary>
    public IReadOnlyDictionary<string, string> KeptReasons { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The metric of the recipe as written (every layer quantized).</summary>
    public double InitialValue { get; init; }

    /// <summary>The chosen model's metric.</summary>
    public double FinalValue { get; init; }

    /// <summary>Nominal bits per quantizable weight before and after.</summary>
    public double InitialBitsPerWeight { get; init; }

    /// <summary>Nominal bits per quantizable weight of the chosen model.</summary>
    public double FinalBitsPerWeight { get; init; }

    /// <summary>The size target in bits per weight, if any.</summary>
    public double? MaxBitsPerWeight { get; init; }

    /// <summary>The size target in bytes, if any.</summary>
    public long? MaxBytes { get; init; }

    /// <summary>One paragraph for people.</summary>
    public required string Summary { get; init; }
}
