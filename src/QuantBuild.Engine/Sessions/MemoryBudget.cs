using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Sessions;

/// <summary>
/// How much memory one run may use (<c>--memory-budget</c>). Batch sizes are derived from it: calibration and the
/// per-layer probe measure one sample's activations and hold as many samples per batch as fit. A yaml batch_size
/// is used as given.
/// </summary>
/// <param name="Bytes">The budget in bytes.</param>
public sealed record MemoryBudget(long Bytes)
{
    /// <summary>The code for a budget that cannot be parsed or makes no sense.</summary>
    public const string InvalidCode = "QB1030";

    /// <summary>The smallest budget accepted: below it ONNX Runtime alone does not fit.</summary>
    public const long Minimum = 64L << 20;

    /// <summary>
    /// Half the memory this process may use (the machine's, or the container's limit): the other half is for the
    /// model's weights, which the OS pages in from the files as they are read.
    /// </summary>
    public static MemoryBudget Default()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return new MemoryBudget(Math.Max(Minimum, available / 2));
    }

    /// <summary>
    /// The most any one stage's activations may take at once, whatever the budget: 1 GB, or the weights' size when
    /// larger. Calibration and the per-layer probe split their captures into more passes to stay within it, so a
    /// model under 100 MB runs in about 2 GB on any machine; a larger <c>--memory-budget</c> does not raise it.
    /// </summary>
    public const long ActivationCeiling = 1L << 30;

    /// <summary>
    /// Bytes a stage's activations may take with <paramref name="weightBytes"/> of weights resident: what the budget
    /// leaves after the weights (at least a quarter of it), at most <see cref="ActivationCeiling"/> or the weights' size.
    /// </summary>
    public long ActivationBytes(long weightBytes) =>
        Math.Min(Math.Max(Bytes - weightBytes, Bytes / 4), Math.Max(ActivationCeiling, weightBytes));

    /// <summary>Parses "2GB", "512MB", "1.5GiB", "800M" or a plain byte count (units are powers of 1024).</summary>
    /// <exception cref="QuantBuildException">QB1030 when the text is not a size or is below <see cref="Minimum"/>.</exception>
    public static MemoryBudget Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        int split = 0;
        while (split < t.Length && (char.IsDigit(t[split]) || t[split] == '.'))
        {
            split++;
        }

        long unit = t[split..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => 0,
        };
        if (unit == 0 || !double.TryParse(t[..split], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value)
            || double.IsNaN(value) || value * unit > long.MaxValue / 2)
        {
            throw new QuantBuildException(InvalidCode, $"--memory-budget '{text}' is not a size.",
                "give a number with a unit, for example --memory-budget 2GB or 512MB");
        }

        long bytes = (long)(value * unit);
        if (bytes < Minimum)
        {
            throw new QuantBuildException(InvalidCode, $"--memory-budget '{text}' is below the {Minimum >> 20} MB a run needs at least.",
                "give at least 64MB, or leave the option out to use half of the machine's memory");
        }

        return new MemoryBudget(bytes);
    }

    /// <inheritdoc />
    public override string ToString() => Bytes >= 1L << 30
        ? (Bytes / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GB"
        : (Bytes >> 20).ToString(CultureInfo.InvariantCulture) + " MB";
}
