using System.Globalization;
using System.Text;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace QuantBuild.Engine.Tests.Config;

/// <summary>
/// Converts yaml to JSON the way the YAML language server sees it (core schema: plain true/false/null/numbers are
/// typed, everything else is a string), so the schema is checked against what editors check.
/// </summary>
internal static class YamlToJson
{
    public static string Convert(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (stream.Documents.Count == 0)
            {
                writer.WriteNullValue();
            }
            else
            {
                Write(stream.Documents[0].RootNode, writer);
            }
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(YamlNode node, Utf8JsonWriter w)
    {
        switch (node)
        {
            case YamlMappingNode map:
                w.WriteStartObject();
                foreach (var kv in map.Children)
                {
                    w.WritePropertyName(((YamlScalarNode)kv.Key).Value ?? string.Empty);
                    Write(kv.Value, w);
                }

                w.WriteEndObject();
                break;
            case YamlSequenceNode seq:
                w.WriteStartArray();
                foreach (YamlNode item in seq.Children)
                {
                    Write(item, w);
                }

                w.WriteEndArray();
                break;
            case YamlScalarNode s:
                string v = s.Value ?? string.Empty;
                if (s.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
                {
                    w.WriteStringValue(v);
                }
                else if (v is "" or "~" or "null")
                {
                    w.WriteNullValue();
                }
                else if (v is "true" or "false")
                {
                    w.WriteBooleanValue(v == "true");
                }
                else if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                {
                    w.WriteNumberValue(l);
                }
                else if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
                {
                    w.WriteNumberValue(d);
                }
                else
                {
                    w.WriteStringValue(v);
                }

                break;
        }
    }
}
