//! Is a screenshot a picture? Decodes the PNG the browser sends (base64 in the protocol) and
//! measures how much is drawn on it.

/// Decodes standard base64 (`A–Z a–z 0–9 + /`, `=` padding), as the DevTools protocol sends
/// binary data.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let body = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= sextet(c).ok_or(format!("not base64: byte {c:#x}"))? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return Err("base64 text of a bad length".to_string()),
        }
    }
    Ok(out)
}

/// What a picture shows, in counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Ink {
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// Distinct RGBA colours.
    pub colours: usize,
    /// Share of pixels that differ from the most common colour (the background), 0..=1.
    pub drawn: f64,
}

impl Ink {
    /// Measures a PNG.
    pub fn of_png(png_bytes: &[u8]) -> Result<Ink, String> {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|e| format!("not a PNG: {e}"))?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader
            .next_frame(&mut buf)
            .map_err(|e| format!("PNG: {e}"))?;
        let channels = info.color_type.samples();
        let pixels: Vec<[u8; 4]> = buf[..info.buffer_size()]
            .chunks_exact(channels)
            .map(|p| match *p {
                [g] => [g, g, g, 255],
                [g, a] => [g, g, g, a],
                [r, g, b] => [r, g, b, 255],
                [r, g, b, a] => [r, g, b, a],
                _ => [0; 4],
            })
            .collect();
        let mut counts = std::collections::BTreeMap::new();
        for p in &pixels {
            *counts.entry(*p).or_insert(0usize) += 1;
        }
        let background = counts.values().copied().max().unwrap_or(0);
        Ok(Ink {
            size: (info.width, info.height),
            colours: counts.len(),
            drawn: if pixels.is_empty() {
                0.0
            } else {
                1.0 - background as f64 / pixels.len() as f64
            },
        })
    }

    /// `Err` saying why, when the picture is blank or nearly so: fewer than `min_colours`
    /// colours, or less than `min_drawn` of it differs from the background.
    pub fn not_blank(&self, min_colours: usize, min_drawn: f64) -> Result<(), String> {
        if self.colours < min_colours || self.drawn < min_drawn {
            return Err(format!(
                "blank picture: {self:?} (want ≥ {min_colours} colours and ≥ {:.1} % drawn)",
                min_drawn * 100.0
            ));
        }
        Ok(())
    }
}

/// Checks a screenshot is a picture and saves it as a CI artifact under
/// `target/browser-screenshots/NAME.png`; returns the path saved to.
pub fn keep_screenshot(name: &str, png_bytes: &[u8]) -> Result<std::path::PathBuf, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png_bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ink::of_png(png_bytes)?
        .not_blank(8, 0.01)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(w: u32, h: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        let data: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .flat_map(|(x, y)| pixel(x, y))
            .collect();
        wr.write_image_data(&data).unwrap();
        drop(wr);
        out
    }

    #[test]
    fn base64_decodes_every_padding() {
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert!(base64_decode("TW!u").is_err());
        assert!(base64_decode("T").is_err());
    }

    #[test]
    fn a_white_page_is_blank_and_a_drawn_one_is_not() {
        let white = Ink::of_png(&png_of(40, 30, |_, _| [255, 255, 255])).unwrap();
        assert_eq!(white.colours, 1);
        assert_eq!(white.drawn, 0.0);
        assert!(white.not_blank(8, 0.01).is_err());
        // a single stray line is still blank
        let line = Ink::of_png(&png_of(
            40,
            30,
            |x, _| if x == 3 { [0; 3] } else { [255; 3] },
        ));
        assert!(line.unwrap().not_blank(8, 0.05).is_err());
        let drawn = Ink::of_png(&png_of(40, 30, |x, y| {
            if y < 10 {
                [255; 3]
            } else {
                [(x * 6) as u8, (y * 8) as u8, 90]
            }
        }))
        .unwrap();
        assert_eq!(drawn.size, (40, 30));
        assert!(drawn.colours > 8 && drawn.drawn > 0.5, "{drawn:?}");
        drawn.not_blank(8, 0.05).unwrap();
        assert!(Ink::of_png(b"not a png").is_err());
    }
}
