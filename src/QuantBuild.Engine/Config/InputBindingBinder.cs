using System.Globalization;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Binds the top-level <c>inputs:</c> mapping (input name → <c>value</c>, optional <c>shape</c> and <c>stream</c>).
/// Only what the yaml alone can decide is checked here; whether the name, shape and streamed output fit the model is
/// checked when the model is loaded (QB1303, QB1304, QB1307), still pointing at these lines.
/// </summary>
internal sealed class InputBindingBinder(ConfigReader r)
{
    public IReadOnlyList<InputBindingConfig> Bind(ConfigNode node)
    {
        var bindings = new List<InputBindingConfig>();
        if (r.AsMapping(node, "inputs") is not { } map)
        {
            return bindings;
        }

        foreach (ConfigEntry entry in map.Entries)
        {
            string path = $"inputs.{entry.Name}";
            if (r.AsMapping(entry.Value, path) is not { } input)
            {
                continue;
            }

            r.CheckKeys(input, QuantizeConfigKeys.Input, path);
            double? value = r.Number(input, "value", path + ".value");
            if (value is null && ConfigReader.Value(input, "value") is null)
            {
                r.Missing("value", path, entry.Key.Location, "add 'value: <number>' (every element of the input gets it, for example 'value: 16000' or 'value: 0')");
            }

            IReadOnlyList<long>? shape = ConfigReader.Value(input, "shape") is { } shapeNode ? Shape(shapeNode, path + ".shape") : null;
            string? stream = r.String(input, "stream", path + ".stream");
            if (value is { } v)
            {
                bindings.Add(new InputBindingConfig(entry.Name, v, shape, entry.Key.Location, stream));
            }
        }

        return bindings;
    }

    private List<long>? Shape(ConfigNode node, string path)
    {
        if (r.AsSequence(node, path) is not { } list)
        {
            return null;
        }

        var dims = new List<long>();
        foreach (ConfigNode item in list.Items)
        {
            if (item is ConfigScalar s && long.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long d) && d >= 1)
            {
                dims.Add(d);
            }
            else
            {
                r.WrongType(item, path, "a list of sizes of 1 or more, for example [2, 1, 128] ([] for a scalar)");
                return null;
            }
        }

        return dims;
    }
}
