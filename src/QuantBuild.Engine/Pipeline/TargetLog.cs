using Serilog;
using Serilog.Events;
using Serilog.Parsing;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// A target's log while targets run in parallel: every line starts with <c>[target]</c> (and carries a Target property),
/// so interleaved lines still say whose they are.
/// </summary>
internal sealed class TargetLog : ILogger
{
    private static readonly MessageTemplateParser Parser = new();
    private readonly ILogger _inner;
    private readonly string _prefix;
    private readonly LogEventProperty _target;

    private TargetLog(ILogger inner, string target)
    {
        _inner = inner;
        // Target names are [A-Za-z0-9._-] (validated), so the prefix holds no template syntax.
        _prefix = $"[{target}] ";
        _target = new LogEventProperty("Target", new ScalarValue(target));
    }

    /// <summary><paramref name="log"/> tagged with <paramref name="target"/> when <paramref name="parallel"/>; itself otherwise.</summary>
    public static ILogger For(ILogger log, string target, bool parallel) => parallel ? new TargetLog(log, target) : log;

    public void Write(LogEvent logEvent)
    {
        var tagged = new LogEvent(logEvent.Timestamp, logEvent.Level, logEvent.Exception, Parser.Parse(_prefix + logEvent.MessageTemplate.Text),
            logEvent.Properties.Select(p => new LogEventProperty(p.Key, p.Value)).Where(p => p.Name != _target.Name).Append(_target));
        _inner.Write(tagged);
    }

    public bool IsEnabled(LogEventLevel level) => _inner.IsEnabled(level);
}
