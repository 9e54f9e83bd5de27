"""Video sources: files, streams, webcams and the generated demo feed."""
