using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Cli;

/// <summary>
/// Progress for terminals and CI logs alike without flooding either: one line per stage per quarter of the work,
/// to stderr so that stdout stays clean for --json.
/// </summary>
public sealed class ConsoleProgress : IProgress<StageProgress>
{
    private readonly TextWriter _writer;
    private readonly Dictionary<string, int> _lastQuarter = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Reports to <paramref name="writer"/>.</summary>
    public ConsoleProgress(TextWriter writer) => _writer = writer;

    /// <inheritdoc />
    public void Report(StageProgress value)
    {
        int quarter = value.Total <= 0 ? 0 : (int)(4 * value.Done / value.Total);
        lock (_gate)
        {
            if (value.Done != 0 && _lastQuarter.TryGetValue(value.Stage, out int last) && last == quarter && value.Done != value.Total)
            {
                return;
            }

            _lastQuarter[value.Stage] = value.Done >= value.Total ? -1 : quarter;
            string percent = value.Total <= 0 ? string.Empty : $" ({100 * value.Done / value.Total}%)";
            _writer.WriteLine($"  {value.Stage}: {value.Done}/{value.Total}{percent}");
        }
    }
}
