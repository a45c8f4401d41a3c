using QuantBuild.Abstractions.Diagnostics;
using Spectre.Console;

namespace QuantBuild.Cli;

/// <summary>Live progress bars, one per stage (calibrate, evaluate x64, ...), for runs attached to a terminal.</summary>
public sealed class SpectreProgress : IProgress<StageProgress>
{
    private readonly ProgressContext _context;
    private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _runs = new(StringComparer.Ordinal);

    /// <summary>Reports into a running Spectre progress display.</summary>
    public SpectreProgress(ProgressContext context) => _context = context;

    /// <summary>Runs <paramref name="work"/> under a progress display on <paramref name="console"/>.</summary>
    public static T Run<T>(IAnsiConsole console, Func<IProgress<StageProgress>, T> work)
    {
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx => result = work(new SpectreProgress(ctx)));
        return result;
    }

    /// <inheritdoc />
    public void Report(StageProgress value)
    {
        lock (_gate)
        {
            // A stage that starts again (calibration of the next target) gets a fresh bar.
            if (!_tasks.TryGetValue(value.Stage, out ProgressTask? task) || (task.IsFinished && value.Done < value.Total))
            {
                int run = _runs[value.Stage] = _runs.GetValueOrDefault(value.Stage) + 1;
                string label = run == 1 ? value.Stage : $"{value.Stage} ({run})";
                task = _context.AddTask(Markup.Escape(label), maxValue: Math.Max(1, value.Total));
                _tasks[value.Stage] = task;
            }

            task.Value = value.Done;
            if (value.Total > 0 && value.Done >= value.Total)
            {
                task.StopTask();
            }
        }
    }
}
