using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace QuantBuild.Cli;

/// <summary>Serilog log lines to a TextWriter (stderr in the tool, a buffer in tests).</summary>
public sealed class TextWriterSink : ILogEventSink
{
    private readonly TextWriter _writer;
    private readonly bool _withExceptions;
    private readonly object _gate = new();

    /// <summary>Writes to <paramref name="writer"/>.</summary>
    /// <param name="writer">Where the lines go.</param>
    /// <param name="withExceptions">Also write an event's exception with its stack (what a QB0001 report needs); `-v diagnostic` turns it on.</param>
    public TextWriterSink(TextWriter writer, bool withExceptions = false)
    {
        _writer = writer;
        _withExceptions = withExceptions;
    }

    // Serilog quotes string properties when rendering; for people reading a terminal, names read better bare.
    private static string Render(LogEvent logEvent)
    {
        var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        foreach (MessageTemplateToken token in logEvent.MessageTemplate.Tokens)
        {
            if (token is PropertyToken property && logEvent.Properties.TryGetValue(property.PropertyName, out LogEventPropertyValue? value)
                && value is ScalarValue { Value: string s })
            {
                text.Write(s);
            }
            else
            {
                token.Render(logEvent.Properties, text, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public void Emit(LogEvent logEvent)
    {
        string level = logEvent.Level switch
        {
            LogEventLevel.Warning => "warning: ",
            LogEventLevel.Error or LogEventLevel.Fatal => "error: ",
            _ => string.Empty,
        };
        lock (_gate)
        {
            string message = Render(logEvent);
            // A QB diagnostic already says "warning QBnnnn:" or "error QBnnnn:"; do not say it twice.
            if (message.StartsWith("warning ", StringComparison.Ordinal) || message.StartsWith("error ", StringComparison.Ordinal) || message.Contains(": warning QB", StringComparison.Ordinal) || message.Contains(": error QB", StringComparison.Ordinal))
            {
                level = string.Empty;
            }

            _writer.WriteLine($"[{logEvent.Timestamp:HH:mm:ss}] {level}{message}");
            if (_withExceptions && logEvent.Exception is { } exception)
            {
                _writer.WriteLine(exception.ToString());
            }
        }
    }
}
