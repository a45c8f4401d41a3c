namespace Contoso.Vision;

/// <summary>Resizes 8-bit images, channel by channel.</summary>
internal static class Resizer
{
    public static NetpbmImage Resize(NetpbmImage image, int width, int height, ImageResize how)
    {
        int ch = image.Channels;
        var pixels = new byte[width * height * ch];
        double sx = (double)image.Width / width;
        double sy = (double)image.Height / height;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < ch; c++)
                {
                    pixels[(y * width + x) * ch + c] = how == ImageResize.Nearest
                        ? At(image, (int)Math.Min(image.Width - 1, Math.Floor((x + 0.5) * sx)), (int)Math.Min(image.Height - 1, Math.Floor((y + 0.5) * sy)), c)
                        : Bilinear(image, ((x + 0.5) * sx) - 0.5, ((y + 0.5) * sy) - 0.5, c);
                }
            }
        }

        return NetpbmImage.FromPixels(width, height, ch, pixels);
    }

    private static byte Bilinear(NetpbmImage image, double fx, double fy, int c)
    {
        fx = Math.Clamp(fx, 0, image.Width - 1);
        fy = Math.Clamp(fy, 0, image.Height - 1);
        int x0 = (int)fx, y0 = (int)fy;
        int x1 = Math.Min(x0 + 1, image.Width - 1), y1 = Math.Min(y0 + 1, image.Height - 1);
        double ax = fx - x0, ay = fy - y0;
        double top = (At(image, x0, y0, c) * (1 - ax)) + (At(image, x1, y0, c) * ax);
        double bottom = (At(image, x0, y1, c) * (1 - ax)) + (At(image, x1, y1, c) * ax);
        return (byte)Math.Round((top * (1 - ay)) + (bottom * ay));
    }

    private static byte At(NetpbmImage image, int x, int y, int c) => image.Pixels[((y * image.Width) + x) * image.Channels + c];
}
