using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;

namespace QuantBuild.Engine.Tests.Config;

/// <summary>Pass names and options are checked in the same validation run as the rest of the file, with plugin code contained.</summary>
public sealed class PluginValidationTests : IDisposable
{
    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Valid = """
        model: model.onnx
        calibration:
          data: data/calibration.npy
        targets:
          x64:
            device: cpu-x64-vnni
        """;

    public sealed class ThrowingOptions
    {
        private double _alpha;

        public double Alpha
        {
            get => _alpha;
            set => _alpha = value > 1 ? throw new InvalidOperationException("alpha setter exploded") : value;
        }
    }

    public sealed class PlainOptions
    {
        public int Steps { get; set; } = 10;
    }

    [Fact]
    public void A_throwing_options_setter_is_a_plugin_error_naming_the_plugin_at_the_recipe_line()
    {
        var options = new ConfigValidationOptions { KnownPasses = [new KnownPass("boom", "Contoso.Boom", typeof(ThrowingOptions))] };

        QuantBuildException e = _dir.SingleError(Valid + "\n    recipe:\n      - pass: boom\n        alpha: 2\n", options);

        Assert.Equal((PluginErrorCodes.OptionsFailed, 8, 15), (e.Code, e.Line, e.Column));
        Assert.Contains("plugin 'Contoso.Boom'", e.Message);
        Assert.Contains("System.InvalidOperationException: alpha setter exploded", e.Message);
    }

    [Fact]
    public void A_throwing_device_check_is_a_plugin_error_not_an_internal_error()
    {
        var options = new ConfigValidationOptions
        {
            KnownPasses = [new KnownPass("boom", "Contoso.Boom", SupportsDevice: (DeviceProfile _) => throw new NotImplementedException("no devices"))],
        };

        QuantBuildException e = _dir.SingleError(Valid + "\n    recipe:\n      - pass: boom\n", options);

        Assert.Equal(PluginErrorCodes.OptionsFailed, e.Code);
        Assert.Contains("NotImplementedException: no devices", e.Message);
    }

    [Fact]
    public void Pass_errors_come_in_the_same_run_as_the_other_errors_when_plugins_load_during_validation()
    {
        var loadedWith = new List<(int References, string Folder)>();
        var options = new ConfigValidationOptions
        {
            PassesFor = (references, folder) =>
            {
                loadedWith.Add((references.Count, folder));
                return [new KnownPass("clip", "Contoso.Clip", typeof(PlainOptions))];
            },
        };

        IReadOnlyList<QuantBuildException> errors = _dir.Errors("""
            model: model.onnx
            calibration:
              data: data/calibration.npy
              samples: 0
            targets:
              x64:
                device: cpu-x64-vnni
                weights: {bits: 3}
                recipe:
                  - pass: clipp
                  - pass: clip
                    stepz: 3
            """, options);

        Assert.Equal(
            [
                (ConfigErrorCodes.OutOfRange, 4, 12),
                (ConfigErrorCodes.OutOfRange, 8, 21),
                (ConfigErrorCodes.UnknownPass, 10, 15),
                (ConfigErrorCodes.UnknownKey, 12, 9),
            ],
            errors.Select(x => (x.Code, x.Line, x.Column)));
        Assert.Equal([(0, _dir.Root)], loadedWith);
    }

    [Fact]
    public void Plugins_are_not_loaded_for_a_file_without_recipes()
    {
        bool loaded = false;
        var options = new ConfigValidationOptions { PassesFor = (_, _) => { loaded = true; return []; } };

        _dir.Load(Valid, options);

        Assert.False(loaded);
    }
}
