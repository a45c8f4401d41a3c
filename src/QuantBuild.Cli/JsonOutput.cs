using System.Text.Json;
using System.Text.Json.Serialization;

namespace QuantBuild.Cli;

/// <summary>The one JSON style every <c>--json</c> verb prints: camelCase, indented, nulls kept so fields never vanish.</summary>
public static class JsonOutput
{
    /// <summary>Serializer options shared by all verbs.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // SQNR of an exact layer is +inf; JSON has no infinity, so it is written as the string "Infinity".
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Writes <paramref name="value"/> as one JSON document followed by a newline.</summary>
    public static void Write<T>(TextWriter writer, T value)
    {
        writer.WriteLine(JsonSerializer.Serialize(value, Options));
    }
}
