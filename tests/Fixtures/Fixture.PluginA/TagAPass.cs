using Fixture.Lib;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;

namespace Fixture.PluginA;

public sealed class TagAOptions
{
    public string Label { get; set; } = "a";
}

/// <summary>Stamps the model with Fixture.Lib version 1's tag, so a test can see which library version ran.</summary>
public sealed class TagAPass : QuantizationPass<TagAOptions>
{
    public override string Name => "fixture-a";

    public override IReadOnlyCollection<string> SupportedOps => ["Conv", "Gemm"];

    public static Version? LibraryVersion => typeof(Tagger).Assembly.GetName().Version;

    public override void Run(IPassContext context, TagAOptions options)
    {
        context.Log.Information($"Fixture.Lib {LibraryVersion}");
        context.Model.MetadataProps.Add(new MetadataEntry(Name, Tagger.Tag(options.Label)));
    }
}
