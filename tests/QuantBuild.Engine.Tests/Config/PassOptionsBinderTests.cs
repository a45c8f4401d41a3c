using System.ComponentModel.DataAnnotations;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Tests.Config;

public sealed class PassOptionsBinderTests
{
    public enum Rounding
    {
        Nearest,
        StochasticUp,
    }

    public sealed class SmoothOptions
    {
        [Range(0.0, 1.0)]
        public double Alpha { get; set; } = 0.5;

        public int? MaxIterations { get; init; }

        public bool FoldIntoPrevious { get; set; } = true;

        public Rounding Rounding { get; set; }

        public IReadOnlyList<string> Layers { get; set; } = [];

        public int[] Steps { get; set; } = [];

        public string? Note { get; set; }

        public BlockOptions? Block { get; set; }
    }

    public sealed class BlockOptions
    {
        [Range(1, 1024)]
        public int Size { get; set; } = 32;
    }

    public sealed record RequiredOptions
    {
        public required double Scale { get; init; }
    }

    private const string File = "/work/q/quantize.yaml";

    // Parses "recipe: [ {pass: p, ...} ]"-style text through the loader's reader and returns the options mapping.
    private static ConfigMapping Options(string yaml)
    {
        var dir = new ConfigFolder();
        try
        {
            QuantizeConfig c = dir.Load("model: model.onnx\ncalibration: {data: data/calibration.npy}\ntargets:\n  t:\n    device: cpu-arm64\n    recipe:\n      - pass: p\n" + yaml);
            return c.Targets[0].Recipe[0].Options;
        }
        finally
        {
            dir.Dispose();
        }
    }

    [Fact]
    public void Snake_case_keys_bind_to_pascal_case_properties_of_every_supported_type()
    {
        SmoothOptions o = PassOptionsBinder.Bind<SmoothOptions>(Options("""
                    alpha: 0.8
                    max_iterations: 200
                    fold_into_previous: false
                    rounding: stochastic_up
                    layers: [fc1, fc2]
                    steps: 3
                    note: "hello"
                    block: {size: 64}
            """));

        Assert.Equal(0.8, o.Alpha);
        Assert.Equal(200, o.MaxIterations);
        Assert.False(o.FoldIntoPrevious);
        Assert.Equal(Rounding.StochasticUp, o.Rounding);
        Assert.Equal(["fc1", "fc2"], o.Layers);
        Assert.Equal([3], o.Steps);
        Assert.Equal("hello", o.Note);
        Assert.Equal(64, o.Block!.Size);
    }

    [Fact]
    public void Options_left_out_keep_the_property_defaults()
    {
        SmoothOptions o = PassOptionsBinder.Bind<SmoothOptions>(Options(string.Empty));

        Assert.Equal((0.5, (int?)null, true), (o.Alpha, o.MaxIterations, o.FoldIntoPrevious));
    }

    [Fact]
    public void Unknown_option_suggests_the_closest_name_at_its_line()
    {
        var e = Assert.Throws<ConfigValidationException>(() => PassOptionsBinder.Bind<SmoothOptions>(Options("        aplha: 0.8\n"), "smoothquant"));

        Assert.Equal(ConfigErrorCodes.UnknownKey, e.Code);
        Assert.Equal((8, 9), (e.Line, e.Column));
        Assert.Contains("unknown smoothquant option 'aplha'. Did you mean 'alpha'?", e.Message);
    }

    [Fact]
    public void Wrong_type_names_what_was_expected_and_what_was_written()
    {
        var e = Assert.Throws<ConfigValidationException>(() => PassOptionsBinder.Bind<SmoothOptions>(Options("        alpha: abc\n")));

        Assert.Equal((ConfigErrorCodes.WrongType, 8, 16), (e.Code, e.Line, e.Column));
        Assert.Contains("expected a number, got 'abc'", e.Message);
    }

    [Fact]
    public void Range_attribute_is_checked_at_the_option_line_including_nested_options()
    {
        var e = Assert.Throws<ConfigValidationException>(() => PassOptionsBinder.Bind<SmoothOptions>(Options("        alpha: 1.5\n        block: {size: 0}\n")));

        Assert.Equal([(ConfigErrorCodes.OutOfRange, 8, 16), (ConfigErrorCodes.OutOfRange, 9, 23)], e.Errors.Select(x => (x.Code, x.Line, x.Column)));
        Assert.Contains("'alpha': The field alpha must be between 0 and 1.", e.Errors[0].Message);
        Assert.Contains("'block.size'", e.Errors[1].Message);
    }

    [Fact]
    public void Unknown_enum_value_lists_the_yaml_spellings()
    {
        var e = Assert.Throws<ConfigValidationException>(() => PassOptionsBinder.Bind<SmoothOptions>(Options("        rounding: nearst\n")));

        Assert.Equal(ConfigErrorCodes.UnknownValue, e.Code);
        Assert.Contains("Did you mean 'nearest'?", e.Message);
        Assert.Equal("use one of: nearest, stochastic_up", e.Fix);
    }

    [Fact]
    public void Required_members_must_be_given()
    {
        var e = Assert.Throws<ConfigValidationException>(() => PassOptionsBinder.Bind<RequiredOptions>(Options(string.Empty)));

        Assert.Equal(ConfigErrorCodes.MissingKey, e.Code);
        Assert.Contains("'scale'", e.Message);
    }

    [Fact]
    public void All_option_errors_are_reported_together()
    {
        var e = Assert.Throws<ConfigValidationException>(() => PassOptionsBinder.Bind<SmoothOptions>(Options("        alpha: x\n        max_iterations: 1.5\n        bogus: 1\n")));

        Assert.Equal(ConfigErrorCodes.Several, e.Code);
        Assert.Equal(3, e.Errors.Count);
    }

    [Theory]
    [InlineData("Alpha", "alpha")]
    [InlineData("BlockSize", "block_size")]
    [InlineData("UseFP16Weights", "use_fp16_weights")]
    [InlineData("MaxIterations2", "max_iterations2")]
    public void Property_names_map_to_snake_case(string property, string key) => Assert.Equal(key, PassOptionsBinder.ToSnakeCase(property));
}
