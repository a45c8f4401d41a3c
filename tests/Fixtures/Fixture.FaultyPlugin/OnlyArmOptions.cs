using System.ComponentModel.DataAnnotations;

namespace Fixture.FaultyPlugin;

public sealed class OnlyArmOptions
{
    [Range(1, 10)]
    public int Strength { get; set; } = 1;
}
