using Fixture.Lib;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;

namespace Fixture.PluginB;

public sealed class TagBOptions
{
    public string Label { get; set; } = "b";

    public int Repeat { get; set; } = 2;
}

/// <summary>Stamps the model with Fixture.Lib version 2's tag.</summary>
public sealed class TagBPass : QuantizationPass<TagBOptions>
{
    public override string Name => "fixture-b";

    public static Version? LibraryVersion => typeof(Tagger).Assembly.GetName().Version;

    public override void Run(IPassContext context, TagBOptions options) =>
        context.Model.MetadataProps.Add(new MetadataEntry(Name, Tagger.Tag(options.Label, options.Repeat)));
}
